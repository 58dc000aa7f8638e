#include "backend/cpu/qmatmul_common.h"

#include "backend/cpu/gemm.h"

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

void dot_panel(const Context& ctx, int64_t M, int64_t nb, int64_t K, const float* X, int64_t ldx, const float* P,
               int64_t ldp, float* out, int64_t ldo) {
  sgemm(ctx, M, nb, K, X, ldx, 1, P, 1, ldp, out, ldo);
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
