// The avx512_vnni level of the quantized matmuls' integer dots: the GGUF int8 kernels
// (gguf_q8_dot.h, gguf_q8_dot_legacy.h, gguf_q8_tiles.h) and the MLX affine 4-bit kernel
// (affine4_dot.h) compiled once more inside an AVX512-VNNI target region, into namespaces of their
// own (q8_vnni, affine4_vnni), with vpdpbusd for u8 x i8 quadruple sums and vpdpwssd for
// int16 pair sums plus accumulate. They keep the ymm width and the AVX2 kernels' float steps, and
// their int32 lanes hold the same integers, so results are bit-identical to the AVX2 level
// (tests/gemm_isa.cc and the suite's parity tests check this on a VNNI machine).
//
// The instructions are the EVEX (AVX512-VL) encodings. AVX-VNNI (VEX, the same instructions on
// ymm for CPUs without AVX-512) is not a level of its own: a CPU with it and without AVX-512 runs
// the AVX2 forms.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "backend/cpu/affine4_act.h"
#include "backend/cpu/gguf_blocks.h"
#include "backend/cpu/isa_target.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/q8_rows.h"
#include "backend/cpu/quant_kernels.h"
#include "backend/cpu/simd_math.h"
#include "tessera/dtype.h"

#if defined(__AVX2__) && defined(__FMA__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define TESSERA_Q8_VNNI 1
#define TESSERA_Q8_NS q8_vnni
#define TESSERA_AFF4_VNNI 1
#define TESSERA_AFF4_NS affine4_vnni

TESSERA_TARGET_AVX512_VNNI_BEGIN

#include "backend/cpu/affine4_dot.h"
#include "backend/cpu/gguf_q8_tiles.h"

namespace tessera::cpu::avx512 {

void gguf_q8_rows(const GgufQ8Job& job, const q8::Rows& x, int64_t n0, int64_t n1) { q8_vnni::q8_rows_all(job, x, n0, n1); }

void affine4_tile(const Affine4Job& job, int mr, int64_t m0, int64_t r0, int64_t r1) {
  affine4_vnni::tile(job, mr, m0, r0, r1);
}

}  // namespace tessera::cpu::avx512

TESSERA_TARGET_END

#endif
