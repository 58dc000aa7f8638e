// CPU kernels of RMSNorm, LayerNorm (per row of the last axis) and GroupNorm (channels-last).
// Rows are converted to float once, statistics accumulate in float lanes combined in double,
// and the result is rounded to the storage type once.
#include <cmath>
#include <utility>
#include <vector>

#include "backend/cpu/fast_simd.h"
#include "tessera/primitives/fast.h"

namespace tessera {

namespace {

// Float copies of the optional per-channel weight and bias (nullptr when absent).
struct Affine {
  std::vector<float> w, b;
  template <typename T>
  Affine(std::in_place_type_t<T>, const std::vector<Array>& in, bool has_w, bool has_b, int64_t n) {
    int next = 1;
    if (has_w) {
      w.resize(n);
      Array a = in[next++];
      cpu::load_row(a.data<T>(), a.stride(0), w.data(), n);
    }
    if (has_b) {
      b.resize(n);
      Array a = in[next++];
      cpu::load_row(a.data<T>(), a.stride(0), b.data(), n);
    }
  }
  const float* weight() const { return w.empty() ? nullptr : w.data(); }
  const float* bias() const { return b.empty() ? nullptr : b.data(); }
};

// y = (x - mean) * inv [* w] [+ b], written as T (float32 rows are written in place, halves via tmp).
// One loop per combination keeps each branch-free, so each vectorizes.
template <typename T>
void normalize_row(const float* x, int64_t n, float mean, float inv, const float* w, const float* b, float* tmp, T* out) {
  float* y;
  if constexpr (std::is_same_v<T, float>) y = out;
  else y = tmp;
  if (w && b) for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * w[i] + b[i];
  else if (w) for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * w[i];
  else if (b) for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv + b[i];
  else for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv;
  if constexpr (!std::is_same_v<T, float>) cpu::store_row(tmp, out, n);
}

// Calls fn(x_row_as_float, out_row, scratch) for every row of the last axis, rows split across the pool.
template <typename T, typename F>
void for_rows(const Array& x, Array& out, Context& ctx, F&& fn) {
  int64_t n = x.shape(-1), rows = n ? x.size() / n : 0;
  const T* src = x.data<T>();
  T* dst = out.data<T>();
  ctx.pool.parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t r0, int64_t r1) {
    std::vector<float> row(n), tmp(n);
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr;
      if constexpr (std::is_same_v<T, float>) xr = src + r * n;
      else { cpu::load_row(src + r * n, 1, row.data(), n); xr = row.data(); }
      fn(xr, dst + r * n, tmp.data());
    }
  });
}

}  // namespace

void RMSNorm::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  Array x = ctx.contiguous(in[0]);
  int64_t n = x.shape(-1);
  dispatch_float(out.dtype(), "rmsNorm", [&]<typename T>() {
    Affine aff(std::in_place_type<T>, in, has_weight_, false, n);
    for_rows<T>(x, out, ctx, [&](const float* xr, T* o, float* tmp) {
      float inv = 1.0f / std::sqrt(float(cpu::sum_sq_dev(xr, n, 0.0f) / double(n)) + eps_);
      normalize_row(xr, n, 0.0f, inv, aff.weight(), nullptr, tmp, o);
    });
  });
}

void LayerNorm::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  Array x = ctx.contiguous(in[0]);
  int64_t n = x.shape(-1);
  dispatch_float(out.dtype(), "layerNorm", [&]<typename T>() {
    Affine aff(std::in_place_type<T>, in, has_weight_, has_bias_, n);
    for_rows<T>(x, out, ctx, [&](const float* xr, T* o, float* tmp) {
      // Two passes (mean, then squared deviations) keep the variance accurate for large means.
      float mean = float(cpu::sum_of(xr, n) / double(n));
      float inv = 1.0f / std::sqrt(float(cpu::sum_sq_dev(xr, n, mean) / double(n)) + eps_);
      normalize_row(xr, n, mean, inv, aff.weight(), aff.bias(), tmp, o);
    });
  });
}

// Statistics stream over rows of C channels (each row read whole, so memory is read in order):
// tasks over chunks of positions accumulate per-group partial sums in double, first of x, then of
// (x - mean)^2. The normalization then applies a per-channel scale and shift.
void GroupNorm::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  Array x = ctx.contiguous(in[0]);
  int64_t nb = x.shape(0), c = x.shape(-1), groups = groups_, cg = c / groups;
  int64_t pos = nb && c ? x.size() / (nb * c) : 0;  // positions per batch item
  if (x.size() == 0) return;
  int64_t chunks = std::min<int64_t>(pos, 4 * ctx.pool.size()), per = (pos + chunks - 1) / chunks;
  dispatch_float(out.dtype(), "groupNorm", [&]<typename T>() {
    Affine aff(std::in_place_type<T>, in, has_weight_, has_bias_, c);
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    std::vector<float> mean(nb * groups, 0.0f);
    // Per (batch, chunk) partial sums over groups; `center` is null for the first pass.
    auto pass = [&](const float* center) {
      std::vector<double> part(nb * chunks * groups, 0.0);
      ctx.pool.parallel_tasks(nb * chunks, [&](int64_t t) {
        int64_t b = t / chunks, p0 = (t % chunks) * per, p1 = std::min(pos, p0 + per);
        std::vector<float> row(c);
        double* acc = part.data() + t * groups;
        for (int64_t p = p0; p < p1; ++p) {
          const T* r = src + (b * pos + p) * c;
          const float* xr;
          if constexpr (std::is_same_v<T, float>) xr = r;
          else { cpu::load_row(r, 1, row.data(), c); xr = row.data(); }
          for (int64_t g = 0; g < groups; ++g)
            acc[g] += center ? cpu::sum_sq_dev(xr + g * cg, cg, center[b * groups + g]) : cpu::sum_of(xr + g * cg, cg);
        }
      });
      std::vector<double> total(nb * groups, 0.0);
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t k = 0; k < chunks; ++k)
          for (int64_t g = 0; g < groups; ++g) total[b * groups + g] += part[(b * chunks + k) * groups + g];
      return total;
    };
    double count = double(pos * cg);
    auto sums = pass(nullptr);
    for (int64_t i = 0; i < nb * groups; ++i) mean[i] = float(sums[i] / count);
    auto sq = pass(mean.data());
    // y = x * scale[c] + shift[c] per batch item.
    std::vector<float> scale(nb * c), shift(nb * c);
    const float *w = aff.weight(), *bias = aff.bias();
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t i = 0; i < c; ++i) {
        int64_t t = b * groups + i / cg;
        float inv = 1.0f / std::sqrt(float(sq[t] / count) + eps_), wi = w ? w[i] : 1.0f;
        scale[b * c + i] = inv * wi;
        shift[b * c + i] = (bias ? bias[i] : 0.0f) - mean[t] * inv * wi;
      }
    ctx.pool.parallel_for(nb * pos, std::max<int64_t>(1, 4096 / c), [&](int64_t r0, int64_t r1) {
      std::vector<float> row(c), tmp(c);
      for (int64_t r = r0; r < r1; ++r) {
        const float* sc = scale.data() + (r / pos) * c;
        const float* sh = shift.data() + (r / pos) * c;
        cpu::load_row(src + r * c, 1, row.data(), c);
        for (int64_t i = 0; i < c; ++i) tmp[i] = row[i] * sc[i] + sh[i];
        cpu::store_row(tmp.data(), dst + r * c, c);
      }
    });
  });
}

}  // namespace tessera
