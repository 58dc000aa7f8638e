// CPU kernel of RoPE: a cos/sin table per (position, frequency) is built once, then every row of
// x rotates its first `dims` features by it and copies the rest.
#include <cmath>
#include <vector>

#include "backend/cpu/fast_simd.h"
#include "tessera/primitives/fast.h"

namespace tessera {

void RoPE::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Array x = ctx.contiguous(in[0]);
  int64_t d = x.shape(-1), l_n = x.shape(-2), half = dims_ / 2, rows = x.size() / d;

  std::vector<float> inv_freq(half);
  if (has_freqs_) {
    Array f = in[1];
    for (int64_t i = 0; i < half; ++i) inv_freq[i] = 1.0f / f.data<float>()[i * f.stride(0)];
  } else if (!inv_freq_.empty()) {
    inv_freq = inv_freq_;
  } else {
    for (int64_t i = 0; i < half; ++i) inv_freq[i] = float(1.0 / std::pow(double(base_), double(2 * i) / double(dims_)));
  }
  // Angles are formed in float32 as the reference implementations do (position * inv_freq), then
  // their cos and sin are taken accurately.
  std::vector<float> cos_t(l_n * half), sin_t(l_n * half);
  ctx.pool.parallel_for(l_n, std::max<int64_t>(1, 2048 / half), [&](int64_t a, int64_t b) {
    for (int64_t l = a; l < b; ++l) {
      float pos = float(offset_ + l) * scale_;
      for (int64_t i = 0; i < half; ++i) {
        double th = double(pos * inv_freq[i]);
        cos_t[l * half + i] = float(std::cos(th)) * mscale_;
        sin_t[l * half + i] = float(std::sin(th)) * mscale_;
      }
    }
  });

  dispatch_float(out.dtype(), "rope", [&]<typename T>() {
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    ctx.pool.parallel_for(rows, std::max<int64_t>(1, 8192 / d), [&](int64_t r0, int64_t r1) {
      std::vector<float> row(d), y(d);
      for (int64_t r = r0; r < r1; ++r) {
        cpu::load_row(src + r * d, 1, row.data(), d);
        const float* c = cos_t.data() + (r % l_n) * half;
        const float* s = sin_t.data() + (r % l_n) * half;
        if (traditional_) {
          for (int64_t i = 0; i < half; ++i) {
            float x0 = row[2 * i], x1 = row[2 * i + 1];
            y[2 * i] = x0 * c[i] - x1 * s[i];
            y[2 * i + 1] = x0 * s[i] + x1 * c[i];
          }
        } else {
          for (int64_t i = 0; i < half; ++i) {
            float x0 = row[i], x1 = row[i + half];
            y[i] = x0 * c[i] - x1 * s[i];
            y[i + half] = x1 * c[i] + x0 * s[i];
          }
        }
        for (int64_t i = dims_; i < d; ++i) y[i] = row[i];
        cpu::store_row(y.data(), dst + r * d, d);
      }
    });
  });
}

}  // namespace tessera
