// Pieces of the GEMM below the blocking at the AVX2 level (kernels.h's avx2::kGemm): the 6x16
// microkernel, panel packing and the FMA peak loop; and the mat-vec kernels, which every level
// shares (they are memory-bound). Internal to gemm.cc / matmul.cc / attention.cc.
#pragma once
#include <cstdint>

#include "backend/cpu/gemm.h"

namespace tessera::cpu {

constexpr int kMR = 6;   // rows of a microkernel tile (A panel width)
constexpr int kNR = 16;  // columns of a microkernel tile (B panel width): two AVX registers

// C[0:mr, 0:nr] (row stride ldc) = alpha * Apanel @ Bpanel (+ C if load_c), over kc steps.
// pa: kc x kMR (k-major), pb: kc x kNR (k-major), both 32-byte aligned and zero-padded.
void microkernel(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc, int mr, int nr, float alpha,
                 bool load_c);

// The same tile with A read in place from row-major rows (element (r, k) at a[r * lda + k]), for
// callers whose A rows are small and already in cache (attention's query rows and probabilities).
void microkernel_rows(int64_t kc, const float* a, int64_t lda, const float* pb, float* c, int64_t ldc, int mr, int nr,
                      float alpha, bool load_c);

// Packs rows [i0, i0 + mc) x cols [k0, k0 + kc) of A into kMR-row panels (zero-padded).
// dst needs 8 floats of slack past the panels.
void pack_a(const MatRef& A, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* dst);
// Packs rows [k0, k0 + kc) x cols [j0, j0 + nc) of B into kNR-column panels (zero-padded).
void pack_b(const MatRef& B, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* dst);

// y[i] = alpha * sum_k M[i, k] x[k] (+ y[i]) for i < n, rows of M contiguous along k (cs == 1).
void gemv_dot(ThreadPool& pool, int64_t n, int64_t K, const MatRef& M, const float* x, float* y, int64_t incy,
              float alpha, bool accumulate);
// y[j] = alpha * sum_k x[k] M[k, j] (+ y[j]) for j < n, rows of M contiguous along j (cs == 1).
void gemv_axpy(ThreadPool& pool, int64_t n, int64_t K, const MatRef& M, const float* x, float* y, int64_t incy,
               float alpha, bool accumulate);

// Runs `iterations` of a register-resident FMA loop; returns a value that depends on every FMA.
float fma_peak_loop(int64_t iterations);
constexpr int64_t kFmaPeakFlopsPerIteration = 12 * 8 * 2;  // 12 independent FMAs of 8 floats

}  // namespace tessera::cpu
