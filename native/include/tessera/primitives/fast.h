// Fused primitives: attention, normalizations and rotary embeddings. Each is one kernel where the
// composite (see packages/core/src/fast/reference.ts) would be several ops and intermediates.
#pragma once
#include <vector>

#include "tessera/primitives.h"

namespace tessera {

// Where an attention score is masked out: nowhere, bottom-right causal, or by a mask array input
// (bool: true keeps; floating: added to the scores) broadcast to [B, Hq, L, S].
enum class AttentionMask { None, Causal, Array };

// out[B, Hq, L, Dv] = softmax(q k^T * scale + mask) v, block-wise with an online softmax.
// Inputs q, k, v [, mask]; query heads share key/value heads in groups of Hq / Hkv.
class ScaledDotProductAttention : public Primitive {
 public:
  ScaledDotProductAttention(float scale, AttentionMask mask) : scale_(scale), mask_(mask) {}
  const char* name() const override { return "ScaledDotProductAttention"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  float scale_;
  AttentionMask mask_;
};

// The softmax probabilities [B, Hq, L, S] of the same attention (inputs q, k [, mask]).
class AttentionWeights : public Primitive {
 public:
  AttentionWeights(float scale, AttentionMask mask) : scale_(scale), mask_(mask) {}
  const char* name() const override { return "AttentionWeights"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  float scale_;
  AttentionMask mask_;
};

// weights [B, Hq, L, S] times v [B, Hkv, S, Dv] with grouped heads -> [B, Hq, L, Dv].
class AttentionApply : public Primitive {
 public:
  const char* name() const override { return "AttentionApply"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

// x * rsqrt(mean(x^2) + eps) [* weight] over the last axis. Inputs x [, weight].
class RMSNorm : public Primitive {
 public:
  RMSNorm(float eps, bool has_weight) : eps_(eps), has_weight_(has_weight) {}
  const char* name() const override { return "RMSNorm"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  float eps_;
  bool has_weight_;
};

// (x - mean) * rsqrt(var + eps) [* weight] [+ bias] over the last axis. Inputs x [, weight] [, bias].
class LayerNorm : public Primitive {
 public:
  LayerNorm(float eps, bool has_weight, bool has_bias) : eps_(eps), has_weight_(has_weight), has_bias_(has_bias) {}
  const char* name() const override { return "LayerNorm"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  float eps_;
  bool has_weight_, has_bias_;
};

// Channels-last group norm: x [N, ..., C], statistics per (n, group) over every position and the
// group's C / groups channels (PyTorch's GroupNorm). Inputs x [, weight [C]] [, bias [C]].
class GroupNorm : public Primitive {
 public:
  GroupNorm(int64_t groups, float eps, bool has_weight, bool has_bias)
      : groups_(groups), eps_(eps), has_weight_(has_weight), has_bias_(has_bias) {}
  const char* name() const override { return "GroupNorm"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int64_t groups_;
  float eps_;
  bool has_weight_, has_bias_;
};

// Rotary embedding of the first `dims` features of x [..., L, D]; position of row l is offset + l.
// The angle of pair i is position * scale * inv_freq[i]; cos and sin are multiplied by `mscale`.
// inv_freq comes from the optional `freqs` input (periods, as MLX: inv_freq = 1 / freqs), else
// from `inv_freq` when given, else base^(-2i / dims).
class RoPE : public Primitive {
 public:
  RoPE(int64_t dims, bool traditional, float base, float scale, int64_t offset, float mscale,
       std::vector<float> inv_freq, bool has_freqs)
      : dims_(dims), traditional_(traditional), base_(base), scale_(scale), offset_(offset), mscale_(mscale),
        inv_freq_(std::move(inv_freq)), has_freqs_(has_freqs) {}
  const char* name() const override { return "RoPE"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int64_t dims_;
  bool traditional_;
  float base_, scale_;
  int64_t offset_;
  float mscale_;
  std::vector<float> inv_freq_;
  bool has_freqs_;
};

}  // namespace tessera
