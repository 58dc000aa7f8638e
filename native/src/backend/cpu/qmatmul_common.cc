#include "backend/cpu/qmatmul_common.h"

namespace tessera::cpu::qmm {

std::vector<float> rows_as_float(const Array& x, ThreadPool& pool) {
  // Walk x with its strides (it may be a view): rows are the flattened leading axes.
  const int nd = x.ndim();
  const int64_t K = x.shape().back(), M = x.size() / std::max<int64_t>(K, 1);
  std::vector<float> X(size_t(M * K));
  dispatch_float(x.dtype(), "quantized matmul", [&]<typename T>() {
    const T* base = static_cast<const T*>(x.raw_data());
    const int64_t ks = x.stride(nd - 1);
    pool.parallel_for(M, 16, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) {
        int64_t off = 0, r = m;
        for (int d = nd - 2; d >= 0; --d) {
          off += (r % x.shape(d)) * x.stride(d);
          r /= x.shape(d);
        }
        for (int64_t k = 0; k < K; ++k) X[size_t(m * K + k)] = to_f32(base[off + k * ks]);
      }
    });
  });
  return X;
}

void dot_panel(int64_t M, int64_t nb, int64_t K, const float* X, int64_t ldx, const float* P, int64_t ldp, float* out,
               int64_t ldo) {
  int64_t m = 0;
#if defined(__AVX2__) && defined(__FMA__)
  for (; m + 4 <= M; m += 4) {
    const float* x0 = X + m * ldx;
    int64_t n = 0;
    for (; n + 2 <= nb; n += 2) {
      const float* p0 = P + n * ldp;
      const float* p1 = p0 + ldp;
      __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (int64_t k = 0; k < K; k += 8) {
        const __m256 w0 = _mm256_loadu_ps(p0 + k), w1 = _mm256_loadu_ps(p1 + k);
        __m256 a = _mm256_loadu_ps(x0 + k);
        c00 = _mm256_fmadd_ps(a, w0, c00);
        c01 = _mm256_fmadd_ps(a, w1, c01);
        a = _mm256_loadu_ps(x0 + ldx + k);
        c10 = _mm256_fmadd_ps(a, w0, c10);
        c11 = _mm256_fmadd_ps(a, w1, c11);
        a = _mm256_loadu_ps(x0 + 2 * ldx + k);
        c20 = _mm256_fmadd_ps(a, w0, c20);
        c21 = _mm256_fmadd_ps(a, w1, c21);
        a = _mm256_loadu_ps(x0 + 3 * ldx + k);
        c30 = _mm256_fmadd_ps(a, w0, c30);
        c31 = _mm256_fmadd_ps(a, w1, c31);
      }
      float* o = out + m * ldo + n;
      o[0] = hsum(c00), o[1] = hsum(c01);
      o[ldo] = hsum(c10), o[ldo + 1] = hsum(c11);
      o[2 * ldo] = hsum(c20), o[2 * ldo + 1] = hsum(c21);
      o[3 * ldo] = hsum(c30), o[3 * ldo + 1] = hsum(c31);
    }
    for (; n < nb; ++n)
      for (int r = 0; r < 4; ++r) out[(m + r) * ldo + n] = dot(X + (m + r) * ldx, P + n * ldp, K);
  }
#endif
  for (; m < M; ++m)
    for (int64_t n = 0; n < nb; ++n) out[m * ldo + n] = dot(X + m * ldx, P + n * ldp, K);
}

void store_output(const float* y, Array& out, ThreadPool& pool) {
  dispatch_float(out.dtype(), "quantized matmul", [&]<typename T>() {
    T* dst = out.data<T>();
    pool.parallel_for(out.size(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dst[i] = store<T>(y[i]);
    });
  });
}

}  // namespace tessera::cpu::qmm
