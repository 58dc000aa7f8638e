// CPU kernels of the creation primitives: each element computed from its index, in double.
#include "tessera/primitives/creation.h"

namespace tessera {

namespace {

// Fills out[i] = f(i) for every flat index, split across the pool.
template <typename F>
void fill_indexed(Array& out, Context& ctx, F&& f) {
  ctx.alloc_output(out);
  dispatch_all(out.dtype(), [&]<typename T>() {
    T* o = out.data<T>();
    ctx.pool.parallel_for(out.size(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = store<T>(f(i));
    });
  });
}

}  // namespace

void Arange::eval_cpu(const std::vector<Array>&, Array& out, Context& ctx) {
  double start = start_, step = step_;
  fill_indexed(out, ctx, [=](int64_t i) { return start + double(i) * step; });
}

void Linspace::eval_cpu(const std::vector<Array>&, Array& out, Context& ctx) {
  int64_t n = out.size();
  double start = start_, stop = stop_;
  double step = n > 1 ? (stop - start) / double(n - 1) : 0.0;
  fill_indexed(out, ctx, [=](int64_t i) { return i == n - 1 && n > 1 ? stop : start + double(i) * step; });
}

void Eye::eval_cpu(const std::vector<Array>&, Array& out, Context& ctx) {
  int64_t m = out.shape(1), k = k_;
  fill_indexed(out, ctx, [=](int64_t i) { return (i % m) - (i / m) == k ? 1.0 : 0.0; });
}

void Tri::eval_cpu(const std::vector<Array>&, Array& out, Context& ctx) {
  int64_t m = out.shape(1), k = k_;
  fill_indexed(out, ctx, [=](int64_t i) { return (i % m) - (i / m) <= k ? 1.0 : 0.0; });
}

}  // namespace tessera
