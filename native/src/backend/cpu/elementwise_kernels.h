// Contiguous float32 elementwise kernels, shared by the Unary/Binary primitives and compile's fuser.
#pragma once
#include <cstdint>

#include "tessera/dtype.h"
#include "tessera/primitives/elementwise.h"

namespace tessera::cpu {

// out[i] = op(x[i]) for i < n; out may alias x.
void unary_f32(UnaryOp op, const float* x, float* out, int64_t n);
// out[i] = op(a[i * sa], b[i * sb]) for i < n with sa, sb in {0, 1}; out may alias a or b.
// Comparisons write 1.0f / 0.0f.
void binary_f32(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n);

// Conversions between float32 and the 16-bit floats (raw bits), rounding to nearest even;
// NaN stays NaN (quiet). Used to run the float32 kernels over half data in cache-sized blocks.
void f16_to_f32(const uint16_t* x, float* out, int64_t n);
void f32_to_f16(const float* x, uint16_t* out, int64_t n);
void bf16_to_f32(const uint16_t* x, float* out, int64_t n);
void f32_to_bf16(const float* x, uint16_t* out, int64_t n);

// Reads n elements of x (float32 or a half type, any stride) as float32 into buf.
template <typename T>
inline void load_as_f32(const T* x, int64_t stride, float* buf, int64_t n) {
  if constexpr (std::is_same_v<T, float16_t>) {
    if (stride == 1) return f16_to_f32(reinterpret_cast<const uint16_t*>(x), buf, n);
  } else if constexpr (std::is_same_v<T, bfloat16_t>) {
    if (stride == 1) return bf16_to_f32(reinterpret_cast<const uint16_t*>(x), buf, n);
  }
  for (int64_t i = 0; i < n; ++i) buf[i] = to_f32(x[i * stride]);
}

// Writes n float32 values of buf to out (float32 or a half type, contiguous).
template <typename T>
inline void store_from_f32(const float* buf, T* out, int64_t n) {
  if constexpr (std::is_same_v<T, float16_t>) f32_to_f16(buf, reinterpret_cast<uint16_t*>(out), n);
  else if constexpr (std::is_same_v<T, bfloat16_t>) f32_to_bf16(buf, reinterpret_cast<uint16_t*>(out), n);
  else for (int64_t i = 0; i < n; ++i) out[i] = buf[i];
}

// Block length for running the float32 kernels over converted or gathered data (4 KiB per buffer:
// small enough for L1, long enough to amortize the call).
inline constexpr int64_t kF32Block = 1024;

}  // namespace tessera::cpu
