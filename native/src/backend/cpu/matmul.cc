// CPU eval of Matmul: batches walked by strides (folded into M when b is shared), float dtypes
// through the GEMM, integers through a plain kernel; and the FMA peak loop for benchmarks.
#include <atomic>

#include "backend/cpu/gemm.h"
#include "backend/cpu/gemm_kernel.h"
#include "backend/cpu/kernels.h"
#include "tessera/primitives/linalg.h"

namespace tessera {

namespace {

// Element offsets of operand `x` for every batch index of `batch` (row-major), broadcasting.
std::vector<int64_t> batch_offsets(const Array& x, const Shape& batch) {
  int nb = int(batch.size()), xb = x.ndim() - 2;
  std::vector<int64_t> offs(size_t(shape_size(batch)), 0);
  std::vector<int64_t> idx(nb, 0);
  int64_t off = 0;
  auto stride = [&](int d) -> int64_t {
    int xd = d - (nb - xb);
    return xd < 0 || x.shape()[xd] == 1 ? 0 : x.strides()[xd];
  };
  for (size_t i = 0; i < offs.size(); ++i) {
    offs[i] = off;
    for (int d = nb - 1; d >= 0; --d) {
      off += stride(d);
      if (++idx[d] < batch[d]) break;
      off -= stride(d) * batch[d];
      idx[d] = 0;
    }
  }
  return offs;
}

// When a's batch dims and its row dim collapse into one strided dim, a batched product with a
// shared b is a single GEMM of (batch * M) rows. Returns that row stride, or 0 if not foldable.
int64_t fold_rows_stride(const Array& a, int64_t batch_size) {
  int64_t count = 1;
  for (int d = 0; d < a.ndim() - 2; ++d) count *= a.shape()[d];
  if (count != batch_size) return 0;  // a itself is broadcast over the batch
  int64_t rs = 0, span = 0;
  for (int d = a.ndim() - 2; d >= 0; --d) {
    if (a.shape()[d] == 1) continue;
    if (span == 0) {
      rs = a.strides()[d];
      span = rs * a.shape()[d];
    } else {
      if (a.strides()[d] != span) return 0;
      span *= a.shape()[d];
    }
  }
  return rs == 0 ? 1 : rs;
}

template <typename T>
void int_matmul(ThreadPool& pool, int64_t M, int64_t N, int64_t K, const T* a, int64_t rsa, int64_t csa, const T* b,
                int64_t rsb, int64_t csb, T* c) {
  // Modular uint64 arithmetic wraps exactly as NumPy's fixed-width integer matmul does.
  pool.parallel_for(M, std::max<int64_t>(1, 4096 / std::max<int64_t>(N * K, 1)), [&](int64_t i0, int64_t i1) {
    std::vector<uint64_t> acc(N);
    for (int64_t i = i0; i < i1; ++i) {
      std::fill(acc.begin(), acc.end(), 0);
      for (int64_t k = 0; k < K; ++k) {
        uint64_t av = uint64_t(int64_t(a[i * rsa + k * csa]));
        if (av == 0) continue;
        const T* br = b + k * rsb;
        for (int64_t j = 0; j < N; ++j) acc[j] += av * uint64_t(int64_t(br[j * csb]));
      }
      for (int64_t j = 0; j < N; ++j) {
        if constexpr (std::is_same_v<T, bool>) c[i * N + j] = acc[j] != 0;
        else c[i * N + j] = T(acc[j]);
      }
    }
  });
}

}  // namespace

void Matmul::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  const Array &a = in[0], &b = in[1];
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  int nd = out.ndim();
  int64_t M = out.shape()[nd - 2], N = out.shape()[nd - 1], K = a.shape().back();
  Shape batch(out.shape().begin(), out.shape().end() - 2);
  int64_t nb = shape_size(batch);
  int64_t rsa = a.strides()[a.ndim() - 2], csa = a.strides()[a.ndim() - 1];
  int64_t rsb = b.strides()[b.ndim() - 2], csb = b.strides()[b.ndim() - 1];
  auto offs_a = batch_offsets(a, batch), offs_b = batch_offsets(b, batch);
  size_t isa = a.itemsize(), isb = b.itemsize(), iso = out.itemsize();
  const char *pa = static_cast<const char*>(a.raw_data()), *pb = static_cast<const char*>(b.raw_data());
  char* po = static_cast<char*>(out.raw_data());

  if (!is_floating(out.dtype())) {
    dispatch_all(out.dtype(), [&]<typename T>() {
      if constexpr (!is_half_v<T> && !std::is_same_v<T, float>) {
        for (int64_t i = 0; i < nb; ++i)
          int_matmul<T>(ctx.pool, M, N, K, a.data<T>() + offs_a[i], rsa, csa, b.data<T>() + offs_b[i], rsb, csb,
                        out.data<T>() + i * M * N);
      }
    });
    return;
  }
  bool b_shared = true;
  for (auto o : offs_b) b_shared = b_shared && o == 0;
  int64_t fold_rs = nb > 1 && b_shared ? fold_rows_stride(a, nb) : 0;
  if (fold_rs) {
    cpu::gemm(ctx, nb * M, N, K, {pa, a.dtype(), fold_rs, csa}, {pb, b.dtype(), rsb, csb},
              {po, out.dtype(), N});
    return;
  }
  auto one = [&](int64_t i) {
    cpu::gemm(ctx, M, N, K, {pa + offs_a[i] * isa, a.dtype(), rsa, csa}, {pb + offs_b[i] * isb, b.dtype(), rsb, csb},
              {po + i * M * N * iso, out.dtype(), N});
  };
  // Many small products (attention heads): one product per thread at a time beats splitting each.
  if (nb >= ctx.pool.size() && M * N * K < (int64_t(1) << 22)) {
    ctx.pool.parallel_for(nb, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i) one(i);
    });
  } else {
    for (int64_t i = 0; i < nb; ++i) one(i);
  }
}

void BenchFmaPeak::eval_cpu(const std::vector<Array>&, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  int threads = ctx.pool.size();
  std::atomic<int> sink{0};
  const cpu::GemmKernels& g = *cpu::kernels(ctx.isa).gemm;  // the widest FMA of the runtime's level
  ctx.pool.parallel_tasks(threads, [&](int64_t) { sink += g.fma_peak_loop(iterations_) > 0.0f ? 1 : 0; });
  // GFLOP performed; `sink` keeps the loops observable (every result is positive).
  double gflop = double(iterations_) * g.fma_peak_flops_per_iteration * sink.load() / 1e9;
  *out.data<float>() = float(gflop);
}

}  // namespace tessera
