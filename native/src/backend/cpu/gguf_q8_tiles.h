// The row loops of the GGUF int8 path around the block kernels of gguf_q8_dot.h /
// gguf_q8_dot_legacy.h, in the namespace those headers were compiled into (q8 for AVX2, q8_vnni
// inside the AVX512-VNNI target region of qmatmul_vnni_avx512.cc).
#pragma once
#include <algorithm>
#include <cstdint>

#include "backend/cpu/gguf_q8_dot.h"
#include "backend/cpu/gguf_q8_dot_legacy.h"
#include "backend/cpu/quant_kernels.h"

#if defined(__AVX2__) && defined(__FMA__)

namespace tessera::cpu::TESSERA_Q8_NS {

template <int MR>
void q8_tile(const GgufQ8Job& P, const Rows& x, int64_t m0, int64_t n0, int64_t n1) {
  const int64_t nb = P.K / P.bs;
  auto run = [&](auto block) { rows_dot<MR>(P.w, P.row_bytes, P.ts, nb, x, m0, n0, n1, P.Y, P.N, block); };
  // Lambdas (not function pointers) so each block kernel inlines into its row loop.
  switch (P.type) {
    case GgmlType::Q4_0: rows_q4_0<MR>(P.w, P.row_bytes, nb, x, m0, n0, n1, P.Y, P.N); break;
    case GgmlType::Q8_0: run([](auto... a) __attribute__((always_inline)) { block_q8_0<MR>(a...); }); break;
    case GgmlType::Q4_1: run([](auto... a) __attribute__((always_inline)) { block_q45_1<MR, false>(a...); }); break;
    case GgmlType::Q5_0: rows_q5_0<MR>(P.w, P.row_bytes, nb, x, m0, n0, n1, P.Y, P.N); break;
    case GgmlType::Q5_1: run([](auto... a) __attribute__((always_inline)) { block_q45_1<MR, true>(a...); }); break;
    case GgmlType::Q4_K: run([](auto... a) __attribute__((always_inline)) { block_q45_k<MR, false>(a...); }); break;
    case GgmlType::Q5_K: run([](auto... a) __attribute__((always_inline)) { block_q45_k<MR, true>(a...); }); break;
    default: run([](auto... a) __attribute__((always_inline)) { block_q6_k<MR>(a...); }); break;
  }
}

// Weight rows [n0, n1) against all activation rows: chunks of rows small enough to stay in L1/L2
// while every tile of up to 4 activation rows passes over them.
inline void q8_rows_all(const GgufQ8Job& P, const Rows& x, int64_t n0, int64_t n1) {
  const int64_t chunk = P.M <= 4 ? n1 - n0 : std::max<int64_t>(1, 16384 / P.row_bytes);
  for (int64_t c0 = n0; c0 < n1; c0 += chunk) {
    const int64_t c1 = std::min(n1, c0 + chunk);
    for (int64_t m0 = 0; m0 < P.M; m0 += 4) {
      switch (std::min<int64_t>(4, P.M - m0)) {
        case 1: q8_tile<1>(P, x, m0, c0, c1); break;
        case 2: q8_tile<2>(P, x, m0, c0, c1); break;
        case 3: q8_tile<3>(P, x, m0, c0, c1); break;
        default: q8_tile<4>(P, x, m0, c0, c1); break;
      }
    }
  }
}

}  // namespace tessera::cpu::TESSERA_Q8_NS

#endif
