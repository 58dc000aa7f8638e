// CPU kernels of AffineQuantize and AffineDequantize: MLX's affine scheme, bit for bit.
//
// Packing: each row of K values is a little-endian bit stream, value j at bits [j * bits, (j + 1) * bits)
// (so 3-, 5- and 6-bit values cross byte and uint32 boundaries). This is how MLX packs every bit
// width (uint32 words for 2/4/8 bits, 3- or 5-byte packs of 8 values for 3/5 bits, 3-byte packs of
// 4 values for 6 bits: all the same stream). The quantizer repeats MLX's CPU float operations in
// order (min/max, scale, rint, clamp) and dequantization rounds the product and the sum separately,
// as MLX's multiply-then-add does; contraction into FMA is off so the roundings stay separate.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cmath>
#include <limits>

#include "tessera/primitives/quant.h"

namespace tessera {

namespace {

struct GroupParams {
  float scale, bias;
};

// MLX's affine parameters of one group (fast::Quantize's CPU kernel, float32 arithmetic).
template <typename T>
GroupParams group_params(const T* w, int gs, int bits) {
  const float n_bins = float((1 << bits) - 1);
  const float eps = 1e-7;
  float w_min = std::numeric_limits<float>::infinity(), w_max = -w_min;
  for (int j = 0; j < gs; ++j) {
    float v = to_f32(w[j]);
    w_max = std::max(w_max, v);
    w_min = std::min(w_min, v);
  }
  const bool mask = std::abs(w_min) > std::abs(w_max);
  float scale = std::max((w_max - w_min) / n_bins, eps);
  scale = mask ? scale : -scale;
  const float edge = mask ? w_min : w_max;
  const float q0 = std::rint(edge / scale);
  float bias = 0;
  if (q0 != 0) {
    scale = edge / q0;
    bias = edge;
  }
  return {scale, bias};
}

// Packs the group's quantized values into gs * bits / 8 bytes of the row's bit stream.
template <typename T>
void pack_group(const T* w, int gs, int bits, GroupParams p, uint8_t* dst) {
  const float n_bins = float((1 << bits) - 1);
  uint64_t acc = 0;
  int nacc = 0;
  for (int j = 0; j < gs; ++j) {
    float q = std::rint((to_f32(w[j]) - p.bias) / p.scale);
    q = std::min(std::max(q, 0.0f), n_bins);
    acc |= uint64_t(q) << nacc;
    nacc += bits;
    while (nacc >= 8) {
      *dst++ = uint8_t(acc & 0xff);
      acc >>= 8;
      nacc -= 8;
    }
  }
}

// Value j of a packed row (a little-endian bit stream); reads only the bytes it needs.
inline uint32_t unpack_at(const uint8_t* row, int64_t j, int bits) {
  const int64_t bit = j * bits;
  const uint8_t* p = row + (bit >> 3);
  const int shift = int(bit & 7);
  uint32_t v = p[0];
  if (shift + bits > 8) v |= uint32_t(p[1]) << 8;
  return (v >> shift) & ((1u << bits) - 1);
}

}  // namespace

void AffineQuantize::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array w = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  const int gs = group_size_, bits = bits_;
  const int64_t groups = w.size() / gs;
  const int64_t group_bytes = int64_t(gs) * bits / 8;
  dispatch_float(w.dtype(), "quantize", [&]<typename T>() {
    const T* src = w.data<T>();
    ctx.pool.parallel_for(groups, 256, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        const T* wg = src + g * gs;
        GroupParams p = group_params(wg, gs, bits);
        switch (part_) {
          case QuantPart::Weight: pack_group(wg, gs, bits, p, static_cast<uint8_t*>(out.raw_data()) + g * group_bytes); break;
          case QuantPart::Scales: out.data<T>()[g] = store<T>(p.scale); break;
          case QuantPart::Biases: out.data<T>()[g] = store<T>(p.bias); break;
        }
      }
    });
  });
}

void AffineDequantize::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array w = ctx.contiguous(in[0]), scales = ctx.contiguous(in[1]), biases = ctx.contiguous(in[2]);
  ctx.alloc_output(out);
  const int gs = group_size_, bits = bits_;
  const int64_t k = out.shape().back();
  const int64_t groups = out.size() / gs, groups_per_row = k / gs;
  const int64_t row_bytes = k * bits / 8;
  const uint8_t* packed = static_cast<const uint8_t*>(w.raw_data());
  dispatch_float(out.dtype(), "dequantize", [&]<typename T>() {
    const T* s = scales.data<T>();
    const T* b = biases.data<T>();
    T* dst = out.data<T>();
    ctx.pool.parallel_for(groups, 64, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        const uint8_t* row = packed + (g / groups_per_row) * row_bytes;
        const int64_t j0 = (g % groups_per_row) * gs;
        const float sc = to_f32(s[g]), bi = to_f32(b[g]);
        for (int j = 0; j < gs; ++j) {
          // Two separately rounded operations in T, as MLX's multiply then add.
          const float prod = load(store<T>(float(unpack_at(row, j0 + j, bits)) * sc));
          dst[g * gs + j] = store<T>(prod + bi);
        }
      }
    });
  });
}

}  // namespace tessera
