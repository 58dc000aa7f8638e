// The AVX-512 level of the float GEMM: a 12x32 microkernel on zmm registers (24 accumulators, two
// B vectors and one broadcast A value: 27 of the 32 registers), masked edge tiles, packing into
// 32-column B panels and 12-row A panels (halves converted while packing, as on AVX2), and the
// zmm FMA peak loop. Everything below TESSERA_TARGET_AVX512_BEGIN is compiled for AVX-512 only.
//
// Per k step the tile does 24 FMAs and 14 loads (2 B vectors, 12 broadcasts): two FMA ports take
// 12 cycles, well over the loads' time, and 24 independent chains cover the FMA latency (4 cycles
// x 2 ports). The B micro-panel (kc x 32 floats = 32 KiB at kc 256) stays in L1 while the A
// micro-panels stream from the L2-resident mc x kc block.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "backend/cpu/gemm_simd.h"
#include "backend/cpu/isa_target.h"
#include "backend/cpu/kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

// GCC 12 warns about the _mm512_undefined_* placeholders inside its own intrinsics.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace tessera::cpu::avx512 {

namespace {

constexpr int kNR = 32;

}  // namespace

TESSERA_TARGET_AVX512_BEGIN

namespace {

inline __mmask16 lanes(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

// n <= 16 elements as floats, zero past n (nothing past n is read).
template <typename T>
inline __m512 ld16(const T* p, __mmask16 m) {
  if constexpr (std::is_same_v<T, float>) {
    return _mm512_maskz_loadu_ps(m, p);
  } else if constexpr (std::is_same_v<T, float16_t>) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  } else {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
  }
}

template <typename T>
inline float ld1(const T* p) {
  return to_f32(*p);
}

// n k-steps of the MR x 32 tile.
template <int MR>
__attribute__((always_inline)) inline void tile_steps(int64_t n, const float*& pa, const float*& pb, __m512 (&acc0)[MR],
                                                      __m512 (&acc1)[MR]) {
#pragma GCC unroll 2
  for (int64_t k = 0; k < n; ++k) {
    _mm_prefetch(reinterpret_cast<const char*>(pa + 16 * MR), _MM_HINT_T0);
    const __m512 b0 = _mm512_load_ps(pb), b1 = _mm512_load_ps(pb + 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 x = _mm512_set1_ps(pa[r]);
      acc0[r] = _mm512_fmadd_ps(x, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(x, b1, acc1[r]);
    }
    pa += MR;
    pb += kNR;
  }
}

template <int MR>
void microkernel_t(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc, int mr, int nr, float alpha,
                   bool load_c) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (int r = 0; r < mr; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 31), _MM_HINT_T0);
  }
  tile_steps<MR>(kc, pa, pb, acc0, acc1);
  const __m512 va = _mm512_set1_ps(alpha);
  const __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    if (r >= mr) break;
    float* cr = c + r * ldc;
    const __m512 c0 = load_c ? _mm512_maskz_loadu_ps(m0, cr) : _mm512_setzero_ps();
    const __m512 c1 = load_c ? _mm512_maskz_loadu_ps(m1, cr + 16) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(cr, m0, _mm512_fmadd_ps(va, acc0[r], c0));
    _mm512_mask_storeu_ps(cr + 16, m1, _mm512_fmadd_ps(va, acc1[r], c1));
  }
}

// A rows [0, mc) x k [0, kc) (element (r, k) at a[r * rs + k * cs]) into MR-row k-major panels.
template <int MR, typename T>
void pack_a_t(const T* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc, float* dst) {
  for (int64_t p = 0; p < mc; p += MR, dst += kc * MR) {
    const int mr = int(std::min<int64_t>(MR, mc - p));
    const T* src = a + p * rs;
    if (rs == 1) {  // transposed A: each k gives mr contiguous rows
      const __mmask16 m = lanes(mr), all = lanes(MR);
      for (int64_t k = 0; k < kc; ++k) _mm512_mask_storeu_ps(dst + k * MR, all, ld16(src + k * cs, m));
    } else if (cs == 1) {  // row-major A: 8 rows x 8 k-steps per register transpose
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8) {
        for (int g = 0; g < MR; g += 8) {
          __m256 r[8];
          for (int i = 0; i < 8; ++i) r[i] = g + i < mr ? ld8(src + (g + i) * rs + k) : _mm256_setzero_ps();
          transpose8(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
          const __mmask8 m = __mmask8(lanes(MR - g));
          for (int i = 0; i < 8; ++i) _mm256_mask_storeu_ps(dst + (k + i) * MR + g, m, r[i]);
        }
      }
      for (; k < kc; ++k)
        for (int r = 0; r < MR; ++r) dst[k * MR + r] = r < mr ? ld1(src + r * rs + k) : 0.0f;
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int r = 0; r < MR; ++r) dst[k * MR + r] = r < mr ? ld1(src + r * rs + k * cs) : 0.0f;
    }
  }
}

// B rows k [0, kc) x cols [0, nc) (element (k, j) at b[k * rs + j * cs]) into 32-column k-major panels.
template <typename T>
void pack_b_t(const T* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, float* dst) {
  for (int64_t p = 0; p < nc; p += kNR, dst += kc * kNR) {
    const int nr = int(std::min<int64_t>(kNR, nc - p));
    const T* src = b + p * cs;
    int64_t k = 0;
    if (cs == 1) {  // row-major B: each k row is nr contiguous values
      const __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
      for (; k < kc; ++k) {
        _mm512_store_ps(dst + k * kNR, ld16(src + k * rs, m0));
        _mm512_store_ps(dst + k * kNR + 16, ld16(src + k * rs + 16, m1));
      }
    } else if (rs == 1 && nr == kNR) {  // transposed B (x @ W.T): 8x8 register transposes
      for (; k + 8 <= kc; k += 8) {
        for (int h = 0; h < kNR / 8; ++h) {
          const T* s = src + h * 8 * cs + k;
          __m256 r0 = ld8(s), r1 = ld8(s + cs), r2 = ld8(s + 2 * cs), r3 = ld8(s + 3 * cs), r4 = ld8(s + 4 * cs),
                 r5 = ld8(s + 5 * cs), r6 = ld8(s + 6 * cs), r7 = ld8(s + 7 * cs);
          transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
          float* d = dst + k * kNR + h * 8;
          _mm256_store_ps(d, r0);
          _mm256_store_ps(d + kNR, r1);
          _mm256_store_ps(d + 2 * kNR, r2);
          _mm256_store_ps(d + 3 * kNR, r3);
          _mm256_store_ps(d + 4 * kNR, r4);
          _mm256_store_ps(d + 5 * kNR, r5);
          _mm256_store_ps(d + 6 * kNR, r6);
          _mm256_store_ps(d + 7 * kNR, r7);
        }
      }
    }
    for (; k < kc; ++k)
      for (int j = 0; j < kNR; ++j) dst[k * kNR + j] = j < nr ? ld1(src + k * rs + j * cs) : 0.0f;
  }
}

template <int MR>
void pack_a(const MatRef& A, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* dst) {
  const int64_t off = i0 * A.rs + k0 * A.cs;
  switch (A.dtype) {
    case Dtype::Float16: return pack_a_t<MR>(static_cast<const float16_t*>(A.ptr) + off, A.rs, A.cs, mc, kc, dst);
    case Dtype::BFloat16: return pack_a_t<MR>(static_cast<const bfloat16_t*>(A.ptr) + off, A.rs, A.cs, mc, kc, dst);
    default: return pack_a_t<MR>(static_cast<const float*>(A.ptr) + off, A.rs, A.cs, mc, kc, dst);
  }
}

void pack_b(const MatRef& B, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  const int64_t off = k0 * B.rs + j0 * B.cs;
  switch (B.dtype) {
    case Dtype::Float16: return pack_b_t(static_cast<const float16_t*>(B.ptr) + off, B.rs, B.cs, kc, nc, dst);
    case Dtype::BFloat16: return pack_b_t(static_cast<const bfloat16_t*>(B.ptr) + off, B.rs, B.cs, kc, nc, dst);
    default: return pack_b_t(static_cast<const float*>(B.ptr) + off, B.rs, B.cs, kc, nc, dst);
  }
}

// 12 independent zmm chains (as the AVX2 loop's 12 ymm ones): 4-cycle latency x 2 FMA ports.
float fma_peak_loop(int64_t iterations) {
  const __m512 m = _mm512_set1_ps(0.999f), a = _mm512_set1_ps(0.001f);
  __m512 c[12];
  for (int i = 0; i < 12; ++i) c[i] = _mm512_set1_ps(1.0f + 0.1f * float(i));
  __asm__ volatile("" : "+v"(c[0]), "+v"(c[1]), "+v"(c[2]), "+v"(c[3]), "+v"(c[4]), "+v"(c[5]), "+v"(c[6]),
                   "+v"(c[7]), "+v"(c[8]), "+v"(c[9]), "+v"(c[10]), "+v"(c[11]));
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) c[j] = _mm512_fmadd_ps(c[j], m, a);
  }
  __m512 s = c[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, c[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace

TESSERA_TARGET_END

// Measured on a Xeon (Sapphire/Emerald Rapids, 2 threads) against this tile: a 14x32 tile (28
// accumulators) and prefetching C late (into L2 first, L1 8 steps before the store) were no faster;
// kc 384-512 and mc 576 were within the run-to-run noise (+-15% on that shared host).
const GemmKernels kGemm = {12, kNR, 12 * 24, 256, 4096, &microkernel_t<12>, &pack_a<12>, &pack_b, &fma_peak_loop,
                           12 * 16 * 2};

}  // namespace tessera::cpu::avx512

#else
#error "the AVX-512 GEMM variant needs an x86-64 GCC or Clang build with the AVX2 base flags"
#endif
