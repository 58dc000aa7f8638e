// Random primitives, counter-based as in JAX and MLX. Input 0 is a key: a uint32 array of shape [2].
// Element i (row-major flat index) of every draw is made from 32-bit word i of the key's stream:
// word 2b is x0 and word 2b + 1 is x1 of threefry2x32(key, counter = (b mod 2^32, b >> 32)).
// An element thus depends only on the key and its own index: not on thread count, chunking, or the
// size of the draw (the first N elements of a draw of 2N equal a draw of N).
#pragma once
#include "tessera/primitives.h"

namespace tessera {

// Threefry-2x32 with 20 rounds (Random123; JAX's threefry_2x32) applied to explicit counters:
// inputs key [2] and counts [..., 2] (uint32); out[..., 0:2] = hash(key, counts[..., 0:2]).
class Threefry : public Primitive {
 public:
  const char* name() const override { return "Threefry"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

// The raw uint32 words of the stream.
class RandomBits : public Primitive {
 public:
  const char* name() const override { return "RandomBits"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

// Uniform in [low, high): the top 23 bits of a word become the mantissa of a float in [1, 2)
// (so 2^23 equally spaced values), computed in float32 and cast; halves are kept below high.
class RandomUniform : public Primitive {
 public:
  RandomUniform(double low, double high) : low_(low), high_(high) {}
  const char* name() const override { return "RandomUniform"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  double low_, high_;
};

// Normal by inverse erf: the top 23 bits give u on the 2^23 midpoints of (-1, 1), symmetric and
// never +-1, and z = sqrt(2) erfinv(u) (as JAX and MLX; |z| <= 5.3). One word per element.
class RandomNormal : public Primitive {
 public:
  RandomNormal(double loc, double scale) : loc_(loc), scale_(scale) {}
  const char* name() const override { return "RandomNormal"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  double loc_, scale_;
};

// Gumbel-max sampling: inputs logits (float32) and key; out (int32) has the logits' shape without
// `axis`, plus a trailing samples axis when num_samples >= 0. The noise for output element o and
// class j is word o * K + j (K = classes), i.e. argmax(logits + gumbel(out.shape + [K]), -1).
class RandomCategorical : public Primitive {
 public:
  RandomCategorical(int axis, int64_t num_samples) : axis_(axis), num_samples_(num_samples) {}
  const char* name() const override { return "RandomCategorical"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int axis_;
  int64_t num_samples_;
};

}  // namespace tessera
