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

void GroupNorm::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  Array x = ctx.contiguous(in[0]);
  int64_t nb = x.shape(0), c = x.shape(-1), cg = c / groups_;
  int64_t pos = nb && c ? x.size() / (nb * c) : 0;  // positions per batch item
  dispatch_float(out.dtype(), "groupNorm", [&]<typename T>() {
    Affine aff(std::in_place_type<T>, in, has_weight_, has_bias_, c);
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    // Statistics per (batch, group): mean first, then squared deviations, both over pos * cg values.
    std::vector<float> mean(nb * groups_), inv(nb * groups_);
    ctx.pool.parallel_tasks(nb * groups_, [&](int64_t t) {
      int64_t b = t / groups_, g = t % groups_;
      std::vector<float> row(cg);
      double s = 0, ss = 0, count = double(pos * cg);
      auto rows = [&](auto&& f) {
        for (int64_t p = 0; p < pos; ++p) {
          cpu::load_row(src + (b * pos + p) * c + g * cg, 1, row.data(), cg);
          f(row.data());
        }
      };
      rows([&](const float* r) { s += cpu::sum_of(r, cg); });
      float m = count > 0 ? float(s / count) : 0.0f;
      rows([&](const float* r) { ss += cpu::sum_sq_dev(r, cg, m); });
      mean[t] = m;
      inv[t] = 1.0f / std::sqrt(float(count > 0 ? ss / count : 0.0) + eps_);
    });
    const float *w = aff.weight(), *bias = aff.bias();
    ctx.pool.parallel_for(nb * pos, std::max<int64_t>(1, 4096 / std::max<int64_t>(c, 1)), [&](int64_t r0, int64_t r1) {
      std::vector<float> row(c), tmp(c);
      for (int64_t r = r0; r < r1; ++r) {
        int64_t b = r / pos;
        cpu::load_row(src + r * c, 1, row.data(), c);
        for (int64_t i = 0; i < c; ++i) {
          int64_t t = b * groups_ + i / cg;
          float y = (row[i] - mean[t]) * inv[t];
          if (w) y *= w[i];
          if (bias) y += bias[i];
          tmp[i] = y;
        }
        cpu::store_row(tmp.data(), dst + r * c, c);
      }
    });
  });
}

}  // namespace tessera
