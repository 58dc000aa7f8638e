// The quantized matmuls' level-specific pieces (kernels.h's table): the integer dot-product tiles of
// the GGUF int8 path (gguf_q8_tiles.h) and of the MLX affine 4-bit path (affine4_dot.h). The AVX2
// level builds them with maddubs / madd; the AVX-512 VNNI level compiles the same source with
// vpdpbusd / vpdpwssd (qmatmul_vnni_avx512.cc), with bit-identical results.
#pragma once
#include <cstdint>

#include "backend/cpu/q8_rows.h"
#include "tessera/dtype.h"
#include "tessera/primitives/quant_gguf.h"

namespace tessera::cpu {

namespace affine4 {
struct Act;
}

// One GgufMatmul call on the int8 path: Y [M, N] = X [M, K] @ W^T, W rows of ggml blocks.
struct GgufQ8Job {
  GgmlType type;
  int64_t M, N, K, row_bytes, bs, ts;  // bs, ts: the type's values and bytes per block
  const uint8_t* w;
  float* Y;
};

// One QuantizedMatmul call on the 4-bit integer path (transpose=true, K a multiple of 64).
struct Affine4Job {
  const uint8_t* w;
  int64_t row_bytes;
  const void* scales;  // [N, K / gs] of sdt
  const void* biases;
  Dtype sdt;
  int gs;  // 32, 64 or 128
  const affine4::Act* act;
  int64_t chunks;  // K / 64
  float* Y;        // [M, N]
  int64_t N;
};

struct QuantKernels {
  // Y rows for weight rows [n0, n1) against every activation row of x (quantized to the type's blocks).
  void (*gguf_q8_rows)(const GgufQ8Job& job, const q8::Rows& x, int64_t n0, int64_t n1);
  // Y[m0 .. m0 + mr) x [r0, r1) (mr in 1..4).
  void (*affine4_tile)(const Affine4Job& job, int mr, int64_t m0, int64_t r0, int64_t r1);
};

namespace avx2 {
void gguf_q8_rows(const GgufQ8Job& job, const q8::Rows& x, int64_t n0, int64_t n1);  // qmatmul_gguf.cc
void affine4_tile(const Affine4Job& job, int mr, int64_t m0, int64_t r0, int64_t r1);  // qmatmul_affine.cc
}  // namespace avx2
namespace avx512 {
void gguf_q8_rows(const GgufQ8Job& job, const q8::Rows& x, int64_t n0, int64_t n1);  // qmatmul_vnni_avx512.cc
void affine4_tile(const Affine4Job& job, int mr, int64_t m0, int64_t r0, int64_t r1);
}  // namespace avx512

}  // namespace tessera::cpu
