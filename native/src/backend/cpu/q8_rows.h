// Activation rows quantized to int8 blocks, as llama.cpp does before its quantized dot products:
// the weights' integer quants then meet int8 activations in integer multiply-adds
// (_mm256_maddubs_epi16 + _mm256_madd_epi16, 32 products in two instructions), and the float
// scales are applied once per block. Blocks of 32 serve Q4_0/Q8_0 (ggml's Q8_0), blocks of 256 the
// k-quants (ggml's Q8_K). Our scale is amax / 127 kept in float32 (ggml's Q8_0 rounds it to f16),
// quants round to nearest even: each activation is off by at most amax / 254 of its block.
#pragma once
#include <cstdint>
#include <vector>

#include "tessera/thread_pool.h"

namespace tessera::cpu::q8 {

struct Rows {
  int64_t M = 0, K = 0, bs = 0;
  std::vector<int8_t> q;     // [M, K]
  std::vector<float> d;      // [M, K / bs]: x ~ d * q
  std::vector<int16_t> s32;  // [M, K / 32]: sum(q) over each 32 values (|sum| <= 32 * 127)
  std::vector<int16_t> s16;  // [M, K / 16]: sum(q) over each 16 values
  const int8_t* qrow(int64_t m) const { return q.data() + m * K; }
  const float* drow(int64_t m) const { return d.data() + m * (K / bs); }
  const int16_t* s32row(int64_t m) const { return s32.data() + m * (K / 32); }
  const int16_t* s16row(int64_t m) const { return s16.data() + m * (K / 16); }
};

// Quantizes X [M, K] (row-major float32; K a multiple of bs, bs a multiple of 32).
void quantize_rows(const float* X, int64_t M, int64_t K, int64_t bs, Rows& out, ThreadPool& pool);

// Reorders the quants (bs = 32) for kernels that read weight blocks in pairs, one per 128-bit half:
// the 64 bytes of blocks 2j, 2j + 1 become [y0[0..15], y1[0..15], y0[16..31], y1[16..31]]. A last
// odd block keeps its order.
void interleave_pairs(Rows& rows);

}  // namespace tessera::cpu::q8
