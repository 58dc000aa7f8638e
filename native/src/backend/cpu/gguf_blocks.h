// Decoders of ggml's block-quantized formats, one inline function per type: decode_<type>(block, y)
// writes the block's elements to y in order. They follow ggml's reference dequantize_row_* and
// gguf-py's NumPy dequantizers operation for operation (float32, no fused multiply-add), so
// results are bit-exact; a quantized matmul kernel can reuse them block by block.
#pragma once
#include <cstdint>
#include <cstring>

#include <stdexcept>
#include <string>

#include "tessera/dtype.h"
#include "tessera/primitives/quant_gguf.h"

namespace tessera::gguf {
// Internal linkage: each including file keeps its own copies, compiled with that file's
// floating-point settings (gguf_dequant.cc turns contraction off for bit-exactness); shared inline
// definitions compiled two ways would let the linker pick either.
namespace {

constexpr int QK = 32;    // elements per block of the legacy types
constexpr int QK_K = 256; // elements per super-block of the k-quants

inline float f16_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return half_to_float(h);
}

// Q4_0: d (f16), 16 bytes of 4-bit quants (low nibbles first half, high nibbles second half).
inline void decode_q4_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < QK / 2; ++j) {
    y[j] = float(int(qs[j] & 0x0F) - 8) * d;
    y[j + QK / 2] = float(int(qs[j] >> 4) - 8) * d;
  }
}

// Q4_1: d, m (f16), 16 bytes of 4-bit quants; y = d * q + m.
inline void decode_q4_1(const uint8_t* b, float* y) {
  const float d = f16_at(b), m = f16_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < QK / 2; ++j) {
    y[j] = d * float(qs[j] & 0x0F) + m;
    y[j + QK / 2] = d * float(qs[j] >> 4) + m;
  }
}

// Q5_0: d (f16), 32 high bits (u32 LE), 16 bytes of low nibbles.
inline void decode_q5_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < QK / 2; ++j) {
    const int x0 = int((qs[j] & 0x0F) | (((qh >> j) & 1) << 4)) - 16;
    const int x1 = int((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
    y[j] = float(x0) * d;
    y[j + QK / 2] = float(x1) * d;
  }
}

// Q5_1: d, m (f16), 32 high bits, 16 bytes of low nibbles; y = d * q + m.
inline void decode_q5_1(const uint8_t* b, float* y) {
  const float d = f16_at(b), m = f16_at(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < QK / 2; ++j) {
    const uint32_t x0 = (qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
    const uint32_t x1 = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    y[j] = d * float(x0) + m;
    y[j + QK / 2] = d * float(x1) + m;
  }
}

// Q8_0: d (f16), 32 int8 quants.
inline void decode_q8_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  const int8_t* qs = reinterpret_cast<const int8_t*>(b + 2);
  for (int j = 0; j < QK; ++j) y[j] = float(qs[j]) * d;
}

// Q2_K: 16 bytes of 4-bit scale|min pairs, 64 bytes of 2-bit quants, d and dmin (f16).
inline void decode_q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* q = b + 16;
  const float d = f16_at(b + 80), dmin = f16_at(b + 82);
  int is = 0;
  for (int n = 0; n < QK_K; n += 128, q += 32) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const uint8_t sc = scales[is++];
        const float dl = d * float(sc & 0x0F), ml = dmin * float(sc >> 4);
        const uint8_t* qq = q + 16 * half;
        for (int l = 0; l < 16; ++l) *y++ = dl * float((qq[l] >> shift) & 3) - ml;
      }
    }
  }
}

// Q3_K's 16 six-bit scales packed in 12 bytes (low nibbles in 0..7, high bit pairs in 8..11).
inline int q3_k_scale(const uint8_t* s, int i) {
  const int lo = i < 8 ? (s[i] & 0x0F) : (s[i - 8] >> 4);
  const int hi = (s[8 + (i % 4)] >> (2 * (i / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

// Q3_K: 32 bytes of high-bit masks, 64 bytes of 2-bit quants, 12 bytes of scales, d (f16).
inline void decode_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hm = b;
  const uint8_t* q = b + 32;
  const uint8_t* scales = b + 96;
  const float d = f16_at(b + 108);
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < QK_K; n += 128, q += 32) {
    for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d * float(q3_k_scale(scales, is++));
        const uint8_t* qq = q + 16 * half;
        const uint8_t* hh = hm + 16 * half;
        for (int l = 0; l < 16; ++l) *y++ = dl * float(int((qq[l] >> shift) & 3) - ((hh[l] & m) ? 0 : 4));
      }
    }
  }
}

// The 6-bit scale and min of sub-block j of Q4_K / Q5_K (12 packed bytes).
inline void k4_scale_min(int j, const uint8_t* q, int& sc, int& mn) {
  if (j < 4) {
    sc = q[j] & 63;
    mn = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q4_K: d, dmin (f16), 12 bytes of scales/mins, 128 bytes of 4-bit quants in 64-element groups.
inline void decode_q4_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int is = 0; is < 8; is += 2, q += 32) {
    int sc, mn;
    k4_scale_min(is, scales, sc, mn);
    const float d1 = d * float(sc), m1 = dmin * float(mn);
    k4_scale_min(is + 1, scales, sc, mn);
    const float d2 = d * float(sc), m2 = dmin * float(mn);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0x0F) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
  }
}

// Q5_K: as Q4_K plus 32 bytes of fifth bits (bit pair k serves 64-element group k).
inline void decode_q5_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    int sc, mn;
    k4_scale_min(is, scales, sc, mn);
    const float d1 = d * float(sc), m1 = dmin * float(mn);
    k4_scale_min(is + 1, scales, sc, mn);
    const float d2 = d * float(sc), m2 = dmin * float(mn);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float((ql[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
  }
}

// Q6_K: 128 bytes of low nibbles, 64 bytes of high bit pairs, 16 int8 scales, d (f16).
inline void decode_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = f16_at(b + 208);
  for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = int((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = int((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * float(sc[is]) * float(q1);
      y[l + 32] = d * float(sc[is + 2]) * float(q2);
      y[l + 64] = d * float(sc[is + 4]) * float(q3);
      y[l + 96] = d * float(sc[is + 6]) * float(q4);
    }
  }
}

// Q8_K: d (f32), 256 int8 quants, 16 int16 block sums (used only by dot products).
inline void decode_q8_k(const uint8_t* b, float* y) {
  float d;
  std::memcpy(&d, b, 4);
  const int8_t* qs = reinterpret_cast<const int8_t*>(b + 4);
  for (int j = 0; j < QK_K; ++j) y[j] = d * float(qs[j]);
}

using DecodeFn = void (*)(const uint8_t*, float*);

// The decoder of a block type; `op` names the caller in the error for types without one.
inline DecodeFn decoder(GgmlType t, const char* op) {
  switch (t) {
    case GgmlType::Q4_0: return decode_q4_0;
    case GgmlType::Q4_1: return decode_q4_1;
    case GgmlType::Q5_0: return decode_q5_0;
    case GgmlType::Q5_1: return decode_q5_1;
    case GgmlType::Q8_0: return decode_q8_0;
    case GgmlType::Q2_K: return decode_q2_k;
    case GgmlType::Q3_K: return decode_q3_k;
    case GgmlType::Q4_K: return decode_q4_k;
    case GgmlType::Q5_K: return decode_q5_k;
    case GgmlType::Q6_K: return decode_q6_k;
    case GgmlType::Q8_K: return decode_q8_k;
    default: throw std::invalid_argument(std::string(op) + ": no decoder for ggml type " + std::to_string(uint32_t(t)));
  }
}

}  // namespace
}  // namespace tessera::gguf
