// GEMM building blocks of the AVX2 level: the 6x16 AVX2/FMA microkernel, panel packing (converting halves and
// reading transposed operands in place), the memory-bound mat-vec kernels and the FMA peak loop.
#include "backend/cpu/gemm_kernel.h"
#include "backend/cpu/gemm_simd.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/simd_math.h"

#include <algorithm>
#include <cstring>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TS_AVX2 1
#endif

namespace tessera::cpu {

namespace {

template <typename T>
inline float ld1(const T* p) { return to_f32(*p); }

// Calls f.template operator()<T>() with the storage type of a float operand.
template <typename F>
void dispatch_operand(Dtype dt, F&& f) {
  dispatch_float(dt, "gemm operand", std::forward<F>(f));
}

#if TS_AVX2
using simd::hsum;
#endif

template <typename T>
void pack_a_t(const T* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc, float* dst) {
  for (int64_t p = 0; p < mc; p += kMR, dst += kc * kMR) {
    int mr = int(std::min<int64_t>(kMR, mc - p));
    const T* src = a + p * rs;
    if (rs == 1 && mr == kMR) {  // transposed A: each k gives kMR contiguous rows
      for (int64_t k = 0; k < kc; ++k)
        for (int r = 0; r < kMR; ++r) dst[k * kMR + r] = ld1(src + k * cs + r);
    } else if (cs == 1 && mr == kMR) {
      const T* rows[kMR];
      for (int r = 0; r < kMR; ++r) rows[r] = src + r * rs;
      int64_t k = 0;
#if TS_AVX2
      // 8 k-steps at a time: six row vectors (two zero rows) transposed; each 8-wide store puts 6
      // values in place and 2 junk ones that the next store overwrites (the buffer has slack).
      for (; k + 8 <= kc; k += 8) {
        __m256 r0 = ld8(rows[0] + k), r1 = ld8(rows[1] + k), r2 = ld8(rows[2] + k), r3 = ld8(rows[3] + k),
               r4 = ld8(rows[4] + k), r5 = ld8(rows[5] + k), r6 = _mm256_setzero_ps(), r7 = r6;
        transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
        float* d = dst + k * kMR;
        _mm256_storeu_ps(d, r0);
        _mm256_storeu_ps(d + kMR, r1);
        _mm256_storeu_ps(d + 2 * kMR, r2);
        _mm256_storeu_ps(d + 3 * kMR, r3);
        _mm256_storeu_ps(d + 4 * kMR, r4);
        _mm256_storeu_ps(d + 5 * kMR, r5);
        _mm256_storeu_ps(d + 6 * kMR, r6);
        _mm256_storeu_ps(d + 7 * kMR, r7);
      }
#endif
      for (; k < kc; ++k)
        for (int r = 0; r < kMR; ++r) dst[k * kMR + r] = ld1(rows[r] + k);
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int r = 0; r < kMR; ++r) dst[k * kMR + r] = r < mr ? ld1(src + r * rs + k * cs) : 0.0f;
    }
  }
}

template <typename T>
void pack_b_t(const T* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, float* dst) {
  for (int64_t p = 0; p < nc; p += kNR, dst += kc * kNR) {
    int nr = int(std::min<int64_t>(kNR, nc - p));
    const T* src = b + p * cs;
    int64_t k = 0;
#if TS_AVX2
    if (cs == 1 && nr == kNR) {  // row-major B: each k row is 16 contiguous values
      for (; k < kc; ++k) {
        _mm256_store_ps(dst + k * kNR, ld8(src + k * rs));
        _mm256_store_ps(dst + k * kNR + 8, ld8(src + k * rs + 8));
      }
    } else if (rs == 1 && nr == kNR) {  // transposed B (x @ W.T): 8x8 register transposes
      for (; k + 8 <= kc; k += 8) {
        for (int h = 0; h < 2; ++h) {
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
#endif
    for (; k < kc; ++k)
      for (int j = 0; j < kNR; ++j) dst[k * kNR + j] = j < nr ? ld1(src + k * rs + j * cs) : 0.0f;
  }
}

}  // namespace

void pack_a(const MatRef& A, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* dst) {
  dispatch_operand(A.dtype, [&]<typename T>() {
    pack_a_t(static_cast<const T*>(A.ptr) + i0 * A.rs + k0 * A.cs, A.rs, A.cs, mc, kc, dst);
  });
}

void pack_b(const MatRef& B, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  dispatch_operand(B.dtype, [&]<typename T>() {
    pack_b_t(static_cast<const T*>(B.ptr) + k0 * B.rs + j0 * B.cs, B.rs, B.cs, kc, nc, dst);
  });
}

namespace {

// The 6 x 16 tile over kc steps, A element (r, k) read as a[r][k * as] (a packed panel: a[r] = pa + r,
// as = kMR; row-major rows: a[r] = row r, as = 1).
inline void tile_kernel(int64_t kc, const float* const a[kMR], int64_t as, const float* pb, float* c, int64_t ldc,
                        int mr, int nr, float alpha, bool load_c) {
#if TS_AVX2
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
         c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int r = 0; r < mr; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);
    const int64_t o = k * as;
    __m256 x = _mm256_broadcast_ss(a0 + o);
    c00 = _mm256_fmadd_ps(x, b0, c00);
    c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a1 + o);
    c10 = _mm256_fmadd_ps(x, b0, c10);
    c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a2 + o);
    c20 = _mm256_fmadd_ps(x, b0, c20);
    c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a3 + o);
    c30 = _mm256_fmadd_ps(x, b0, c30);
    c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a4 + o);
    c40 = _mm256_fmadd_ps(x, b0, c40);
    c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a5 + o);
    c50 = _mm256_fmadd_ps(x, b0, c50);
    c51 = _mm256_fmadd_ps(x, b1, c51);
    pb += kNR;
  }
  __m256 acc[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  __m256 va = _mm256_set1_ps(alpha);
  if (mr == kMR && nr == kNR) {
    for (int r = 0; r < kMR; ++r) {
      float* cr = c + r * ldc;
      for (int h = 0; h < 2; ++h) {
        __m256 base = load_c ? _mm256_loadu_ps(cr + 8 * h) : _mm256_setzero_ps();
        _mm256_storeu_ps(cr + 8 * h, _mm256_fmadd_ps(va, acc[r][h], base));
      }
    }
    return;
  }
  alignas(32) float tile[kMR * kNR];
  for (int r = 0; r < kMR; ++r) {
    _mm256_store_ps(tile + r * kNR, _mm256_mul_ps(va, acc[r][0]));
    _mm256_store_ps(tile + r * kNR + 8, _mm256_mul_ps(va, acc[r][1]));
  }
#else
  float tile[kMR * kNR] = {};
  for (int64_t k = 0; k < kc; ++k, pb += kNR)
    for (int r = 0; r < kMR; ++r)
      for (int j = 0; j < kNR; ++j) tile[r * kNR + j] += a[r][k * as] * pb[j];
  for (float& v : tile) v *= alpha;
#endif
  for (int r = 0; r < mr; ++r)
    for (int j = 0; j < nr; ++j) c[r * ldc + j] = (load_c ? c[r * ldc + j] : 0.0f) + tile[r * kNR + j];
}

}  // namespace

void microkernel(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc, int mr, int nr, float alpha,
                 bool load_c) {
  const float* a[kMR] = {pa, pa + 1, pa + 2, pa + 3, pa + 4, pa + 5};
  tile_kernel(kc, a, kMR, pb, c, ldc, mr, nr, alpha, load_c);
}

void microkernel_rows(int64_t kc, const float* a, int64_t lda, const float* pb, float* c, int64_t ldc, int mr, int nr,
                      float alpha, bool load_c) {
  // Rows past mr repeat row 0 (their results are not stored), so nothing past the matrix is read.
  const float* rows[kMR];
  for (int r = 0; r < kMR; ++r) rows[r] = a + (r < mr ? r : 0) * lda;
  tile_kernel(kc, rows, 1, pb, c, ldc, mr, nr, alpha, load_c);
}

namespace {

template <typename T>
float dot_row(const T* m, const float* x, int64_t K) {
  int64_t k = 0;
  float s = 0.0f;
#if TS_AVX2
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (; k + 32 <= K; k += 32) {
    a0 = _mm256_fmadd_ps(ld8(m + k), _mm256_loadu_ps(x + k), a0);
    a1 = _mm256_fmadd_ps(ld8(m + k + 8), _mm256_loadu_ps(x + k + 8), a1);
    a2 = _mm256_fmadd_ps(ld8(m + k + 16), _mm256_loadu_ps(x + k + 16), a2);
    a3 = _mm256_fmadd_ps(ld8(m + k + 24), _mm256_loadu_ps(x + k + 24), a3);
  }
  for (; k + 8 <= K; k += 8) a0 = _mm256_fmadd_ps(ld8(m + k), _mm256_loadu_ps(x + k), a0);
  s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
#endif
  for (; k < K; ++k) s += ld1(m + k) * x[k];
  return s;
}

inline void put(float* y, float v, float alpha, bool accumulate) { *y = alpha * v + (accumulate ? *y : 0.0f); }

}  // namespace

void gemv_dot(ThreadPool& pool, int64_t n, int64_t K, const MatRef& M, const float* x, float* y, int64_t incy,
              float alpha, bool accumulate) {
  dispatch_operand(M.dtype, [&]<typename T>() {
    const T* m = static_cast<const T*>(M.ptr);
    int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(K, 1));
    pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) put(y + i * incy, dot_row(m + i * M.rs, x, K), alpha, accumulate);
    });
  });
}

void gemv_axpy(ThreadPool& pool, int64_t n, int64_t K, const MatRef& M, const float* x, float* y, int64_t incy,
               float alpha, bool accumulate) {
  constexpr int64_t W = 512;  // columns per block: the accumulators stay in L1 while K rows stream by
  dispatch_operand(M.dtype, [&]<typename T>() {
    const T* m = static_cast<const T*>(M.ptr);
    int64_t blocks = (n + W - 1) / W;
    pool.parallel_for(blocks, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(K * W, 1)), [&](int64_t b0, int64_t b1) {
      alignas(32) float acc[W];
      for (int64_t blk = b0; blk < b1; ++blk) {
        int64_t j0 = blk * W, w = std::min(W, n - j0);
        std::fill(acc, acc + w, 0.0f);
        int64_t k = 0;
#if TS_AVX2
        int64_t wv = w & ~int64_t(7);
        for (; k + 4 <= K; k += 4) {
          const T *r0 = m + k * M.rs + j0, *r1 = r0 + M.rs, *r2 = r1 + M.rs, *r3 = r2 + M.rs;
          __m256 x0 = _mm256_set1_ps(x[k]), x1 = _mm256_set1_ps(x[k + 1]), x2 = _mm256_set1_ps(x[k + 2]),
                 x3 = _mm256_set1_ps(x[k + 3]);
          for (int64_t j = 0; j < wv; j += 8) {
            __m256 s = _mm256_load_ps(acc + j);
            s = _mm256_fmadd_ps(x0, ld8(r0 + j), s);
            s = _mm256_fmadd_ps(x1, ld8(r1 + j), s);
            s = _mm256_fmadd_ps(x2, ld8(r2 + j), s);
            s = _mm256_fmadd_ps(x3, ld8(r3 + j), s);
            _mm256_store_ps(acc + j, s);
          }
          for (int64_t j = wv; j < w; ++j)
            acc[j] += x[k] * ld1(r0 + j) + x[k + 1] * ld1(r1 + j) + x[k + 2] * ld1(r2 + j) + x[k + 3] * ld1(r3 + j);
        }
#endif
        for (; k < K; ++k) {
          const T* r = m + k * M.rs + j0;
          for (int64_t j = 0; j < w; ++j) acc[j] += x[k] * ld1(r + j);
        }
        for (int64_t j = 0; j < w; ++j) put(y + (j0 + j) * incy, acc[j], alpha, accumulate);
      }
    });
  });
}

float fma_peak_loop(int64_t iterations) {
#if TS_AVX2
  // 12 independent chains cover the FMA latency (4 cycles) times the FMA ports (2); the values
  // converge to a fixed point, so nothing overflows or turns denormal. Distinct starting values
  // and the empty asm keep the compiler from merging identical chains.
  __m256 m = _mm256_set1_ps(0.999f), a = _mm256_set1_ps(0.001f);
  __m256 c0 = _mm256_set1_ps(1.0f), c1 = _mm256_set1_ps(1.1f), c2 = _mm256_set1_ps(1.2f), c3 = _mm256_set1_ps(1.3f),
         c4 = _mm256_set1_ps(1.4f), c5 = _mm256_set1_ps(1.5f), c6 = _mm256_set1_ps(1.6f), c7 = _mm256_set1_ps(1.7f),
         c8 = _mm256_set1_ps(1.8f), c9 = _mm256_set1_ps(1.9f), c10 = _mm256_set1_ps(2.0f), c11 = _mm256_set1_ps(2.1f);
  __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5), "+x"(c6), "+x"(c7), "+x"(c8),
                   "+x"(c9), "+x"(c10), "+x"(c11));
  for (int64_t i = 0; i < iterations; ++i) {
    c0 = _mm256_fmadd_ps(c0, m, a);
    c1 = _mm256_fmadd_ps(c1, m, a);
    c2 = _mm256_fmadd_ps(c2, m, a);
    c3 = _mm256_fmadd_ps(c3, m, a);
    c4 = _mm256_fmadd_ps(c4, m, a);
    c5 = _mm256_fmadd_ps(c5, m, a);
    c6 = _mm256_fmadd_ps(c6, m, a);
    c7 = _mm256_fmadd_ps(c7, m, a);
    c8 = _mm256_fmadd_ps(c8, m, a);
    c9 = _mm256_fmadd_ps(c9, m, a);
    c10 = _mm256_fmadd_ps(c10, m, a);
    c11 = _mm256_fmadd_ps(c11, m, a);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                           _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  return hsum(s);
#else
  float c[96];
  for (float& v : c) v = 1.0f;
  for (int64_t i = 0; i < iterations; ++i)
    for (float& v : c) v = v * 0.999f + 0.001f;
  float s = 0;
  for (float v : c) s += v;
  return s;
#endif
}

const GemmKernels avx2::kGemm = {kMR, kNR, 144, 256, 4080, &microkernel, &pack_a, &pack_b, &fma_peak_loop,
                                 kFmaPeakFlopsPerIteration};

}  // namespace tessera::cpu
