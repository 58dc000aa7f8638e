// Fused ops (mx.fast): attention, normalizations, rotary embeddings. Builders validate and cast.
#pragma once
#include <optional>
#include <vector>

#include "tessera/array.h"
#include "tessera/primitives/fast.h"

namespace tessera {

// q [B, Hq, L, D], k [B, Hkv, S, D], v [B, Hkv, S, Dv] with Hq % Hkv == 0 -> [B, Hq, L, Dv].
// `causal` is bottom-right aligned (query l sees keys s <= l + S - L); `mask` (bool keeps, floating
// adds) broadcasts to [B, Hq, L, S]. A query that sees no key gets zeros.
Array scaled_dot_product_attention(const Array& q, const Array& k, const Array& v, double scale, bool causal,
                                   const std::optional<Array>& mask);
// The softmax probabilities [B, Hq, L, S] of that attention.
Array attention_weights(const Array& q, const Array& k, double scale, bool causal, const std::optional<Array>& mask);
// weights [B, Hq, L, S] applied to v [B, Hkv, S, Dv] -> [B, Hq, L, Dv].
Array attention_apply(const Array& weights, const Array& v);

Array rms_norm(const Array& x, const std::optional<Array>& weight, double eps);
Array layer_norm(const Array& x, const std::optional<Array>& weight, const std::optional<Array>& bias, double eps);
Array group_norm(const Array& x, int64_t groups, const std::optional<Array>& weight, const std::optional<Array>& bias,
                 double eps);

struct RopeOptions {
  bool traditional = false;  // rotate interleaved pairs (x[2i], x[2i+1]) instead of halves
  double base = 10000.0;
  double scale = 1.0;        // multiplies positions
  int64_t offset = 0;        // position of the first row
  double mscale = 1.0;       // multiplies cos and sin (YaRN's attention factor)
  std::vector<float> inv_freq;  // dims / 2 inverse frequencies, overriding base
  std::optional<Array> freqs;   // dims / 2 periods (MLX's freqs), overriding base
};
Array rope(const Array& x, int64_t dims, const RopeOptions& opts);

}  // namespace tessera
