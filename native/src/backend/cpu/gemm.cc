// The blocked GEMM driver (BLIS-style loops around the microkernel of the runtime's ISA level, with
// that level's tile and block sizes: kernels.h). The AVX2 blocks fit Zen 3: a kc x 16 B
// micro-panel (16 KiB) in L1, the mc x kc A block (144 KiB) in L2, the kc x nc B panel in L3.
#include "backend/cpu/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "backend/cpu/gemm_kernel.h"
#include "backend/cpu/kernels.h"

namespace tessera::cpu {

namespace {

// Below this many multiply-adds, threading costs more than it saves.
constexpr int64_t kParallelMacs = int64_t(1) << 18;

// Per-thread packing scratch, grown on demand and kept for the thread's life (a GEMM is called in
// loops by models; reallocating megabytes per call would cost page faults every time).
struct Scratch {
  float* ptr = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(ptr); }
  float* get(size_t n) {
    if (n > cap) {
      std::free(ptr);
      cap = (n + 1023) & ~size_t(1023);
      ptr = static_cast<float*>(std::aligned_alloc(64, cap * sizeof(float)));
      if (!ptr) throw std::bad_alloc();
    }
    return ptr;
  }
};
thread_local Scratch t_pack_a, t_pack_b;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Reads element (i, 0) of a strided column as float.
std::vector<float> to_vector(const MatRef& v, int64_t n, int64_t stride) {
  std::vector<float> out(n);
  dispatch_float(v.dtype, "gemm operand", [&]<typename T>() {
    const T* p = static_cast<const T*>(v.ptr);
    for (int64_t i = 0; i < n; ++i) out[i] = to_f32(p[i * stride]);
  });
  return out;
}

// The mat-vec cases (memory-bound). Returns false when the strides suit neither kernel.
bool try_gemv(ThreadPool& pool, int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, float* c,
              int64_t ldc, float alpha, bool accumulate) {
  if (N == 1) {  // y = A x
    if (A.cs != 1 && A.rs != 1) return false;
    auto x = to_vector(B, K, B.rs);
    if (A.cs == 1) gemv_dot(pool, M, K, A, x.data(), c, ldc, alpha, accumulate);
    else gemv_axpy(pool, M, K, {A.ptr, A.dtype, A.cs, 1}, x.data(), c, ldc, alpha, accumulate);
    return true;
  }
  if (M == 1) {  // y = x B
    if (B.cs != 1 && B.rs != 1) return false;
    auto x = to_vector(A, K, A.cs);
    if (B.cs == 1) gemv_axpy(pool, N, K, B, x.data(), c, 1, alpha, accumulate);
    else gemv_dot(pool, N, K, {B.ptr, B.dtype, B.cs, 1}, x.data(), c, 1, alpha, accumulate);
    return true;
  }
  return false;
}

// One thread's GEMM over a block of C: the BLIS loops (jc, pc, ic, jr, ir) with its own packing.
void blocked_serial(const GemmKernels& g, int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, float* c,
                    int64_t ldc, float alpha, bool accumulate) {
  const int64_t MR = g.mr, NR = g.nr;
  int64_t mc = round_up(ceil_div(M, ceil_div(M, g.mc)), MR);  // equal row blocks of at most g.mc
  for (int64_t jc = 0; jc < N; jc += g.nc) {
    int64_t nc = std::min(g.nc, N - jc), panels = ceil_div(nc, NR);
    for (int64_t pc = 0; pc < K; pc += g.kc) {
      int64_t kc = std::min(g.kc, K - pc);
      float* pb = t_pack_b.get(size_t(panels * NR * kc));
      for (int64_t p = 0; p < panels; ++p)
        g.pack_b(B, pc, kc, jc + p * NR, std::min<int64_t>(NR, nc - p * NR), pb + p * NR * kc);
      bool load_c = accumulate || pc > 0;
      for (int64_t i0 = 0; i0 < M; i0 += mc) {
        int64_t m = std::min(mc, M - i0);
        float* pa = t_pack_a.get(size_t(round_up(m, MR) * kc + kPackSlack));
        g.pack_a(A, i0, m, pc, kc, pa);
        for (int64_t p = 0; p < panels; ++p) {
          int64_t j = jc + p * NR;
          int nr = int(std::min<int64_t>(NR, N - j));
          const float* bp = pb + p * NR * kc;
          for (int64_t ir = 0; ir < m; ir += MR)
            g.microkernel(kc, pa + ir * kc, bp, c + (i0 + ir) * ldc + j, ldc, int(std::min<int64_t>(MR, m - ir)), nr,
                          alpha, load_c);
        }
      }
    }
  }
}

MatRef offset(const MatRef& x, int64_t i, int64_t j) {
  return {static_cast<const char*>(x.ptr) + (i * x.rs + j * x.cs) * int64_t(itemsize(x.dtype)), x.dtype, x.rs, x.cs};
}

// Splits C into one block per thread along its longer side: a thread packs all of the operand
// it shares (A when splitting columns, B when splitting rows) and its own part of the other, so
// splitting the longer side keeps the duplicated packing the smaller one. The threads share
// nothing and never wait on each other: one parallel region per GEMM, which also keeps a
// descheduled thread (on a busy machine) from stalling the other at a barrier.
void blocked(ThreadPool& pool, const GemmKernels& g, int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B,
             float* c, int64_t ldc, float alpha, bool accumulate) {
  int64_t nt = M * N * K < kParallelMacs ? 1 : pool.size();
  int64_t col_tasks = std::min(nt, ceil_div(N, 4 * g.nr)), row_tasks = std::min(nt, ceil_div(M, 4 * g.mr));
  if (col_tasks > 1 && (N >= M || row_tasks < 2)) {
    int64_t per = round_up(ceil_div(N, col_tasks), g.nr);
    pool.parallel_tasks(ceil_div(N, per), [&](int64_t t) {
      int64_t j0 = t * per, n = std::min(per, N - j0);
      blocked_serial(g, M, n, K, A, offset(B, 0, j0), c + j0, ldc, alpha, accumulate);
    });
  } else if (row_tasks > 1) {
    int64_t per = round_up(ceil_div(M, row_tasks), g.mr);
    pool.parallel_tasks(ceil_div(M, per), [&](int64_t t) {
      int64_t i0 = t * per, m = std::min(per, M - i0);
      blocked_serial(g, m, N, K, offset(A, i0, 0), B, c + i0 * ldc, ldc, alpha, accumulate);
    });
  } else {
    blocked_serial(g, M, N, K, A, B, c, ldc, alpha, accumulate);
  }
}

}  // namespace

void gemm(const Context& ctx, int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, const OutRef& C,
          float alpha, bool accumulate) {
  gemm(ctx.pool, *kernels(ctx.isa).gemm, M, N, K, A, B, C, alpha, accumulate);
}

void gemm(ThreadPool& pool, const GemmKernels& g, int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B,
          const OutRef& C, float alpha, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  // Half outputs accumulate in a float32 buffer and are rounded once at the end.
  std::unique_ptr<float[]> tmp;
  float* c = static_cast<float*>(C.ptr);
  int64_t ldc = C.ld;
  if (C.dtype != Dtype::Float32) {
    tmp.reset(new float[size_t(M * N)]);
    c = tmp.get();
    ldc = N;
    if (accumulate) {
      dispatch_float(C.dtype, "gemm output", [&]<typename T>() {
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) c[i * N + j] = to_f32(static_cast<const T*>(C.ptr)[i * C.ld + j]);
      });
    }
  }
  if (K == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, 0.0f);
  } else if (!((M == 1 || N == 1) && try_gemv(pool, M, N, K, A, B, c, ldc, alpha, accumulate))) {
    blocked(pool, g, M, N, K, A, B, c, ldc, alpha, accumulate);
  }
  if (tmp) {
    dispatch_float(C.dtype, "gemm output", [&]<typename T>() {
      T* o = static_cast<T*>(C.ptr);
      pool.parallel_for(M, std::max<int64_t>(1, 8192 / N), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          for (int64_t j = 0; j < N; ++j) o[i * C.ld + j] = from_f32<T>(c[i * N + j]);
      });
    });
  }
}

}  // namespace tessera::cpu
