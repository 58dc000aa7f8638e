// CPU kernels of Rfft and Irfft: each row along the axis is gathered into a contiguous buffer and
// transformed; rows are split across the pool. An even length n runs as a complex FFT of n/2
// (even samples real, odd imaginary) plus a post-twiddle; an odd n as a complex FFT of n.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/fft_plan.h"
#include "tessera/primitives/fft.h"

namespace tessera {

namespace {

using cpu::cpx;

inline cpx cadd(cpx a, cpx b) { return {a.re + b.re, a.im + b.im}; }
inline cpx csub(cpx a, cpx b) { return {a.re - b.re, a.im - b.im}; }
inline cpx cmul(cpx a, cpx b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
inline cpx cconj(cpx a) { return {a.re, -a.im}; }

class RealPlan {
 public:
  explicit RealPlan(int64_t n) : n_(n), even_(n % 2 == 0), plan_(n % 2 == 0 ? n / 2 : n) {
    if (even_) {
      tw_.resize(n / 2 + 1);
      for (int64_t k = 0; k <= n / 2; ++k) tw_[k] = cpu::unit_root(double(k) / double(n));
    }
  }
  int64_t scratch_size() const { return plan_.size() + plan_.scratch_size(); }

  // X[0..n/2] of the n reals x.
  void forward(const float* x, cpx* X, cpx* scratch) const {
    cpx* z = scratch;
    cpx* s = scratch + plan_.size();
    if (!even_) {
      for (int64_t j = 0; j < n_; ++j) z[j] = {x[j], 0.0f};
      plan_.forward(z, s);
      std::copy(z, z + n_ / 2 + 1, X);
      return;
    }
    int64_t h = n_ / 2;
    for (int64_t j = 0; j < h; ++j) z[j] = {x[2 * j], x[2 * j + 1]};
    plan_.forward(z, s);
    for (int64_t k = 0; k <= h; ++k) {
      cpx a = z[k % h], b = cconj(z[(h - k) % h]);
      cpx e = {0.5f * (a.re + b.re), 0.5f * (a.im + b.im)};
      cpx o = {0.5f * (a.im - b.im), -0.5f * (a.re - b.re)};  // (a - b) / 2i
      X[k] = cadd(e, cmul(tw_[k], o));
    }
  }

  // The n reals whose spectrum is X[0..n/2] (imaginary parts of X[0], and of X[n/2] for even n,
  // are ignored), normalized by 1/n.
  void inverse(const cpx* X, float* x, cpx* scratch) const {
    cpx* z = scratch;
    cpx* s = scratch + plan_.size();
    if (!even_) {
      // The full Hermitian spectrum, conjugated: x = Re(FFT(conj(Y))) / n.
      z[0] = {X[0].re, 0.0f};
      for (int64_t k = 1; k <= n_ / 2; ++k) {
        z[k] = cconj(X[k]);
        z[n_ - k] = X[k];
      }
      plan_.forward(z, s);
      float inv = 1.0f / float(n_);
      for (int64_t j = 0; j < n_; ++j) x[j] = z[j].re * inv;
      return;
    }
    int64_t h = n_ / 2;
    for (int64_t k = 0; k < h; ++k) {
      cpx a = X[k], b = cconj(X[h - k]);
      if (k == 0) a.im = b.im = 0.0f;  // DC and Nyquist bins are real
      cpx e = {0.5f * (a.re + b.re), 0.5f * (a.im + b.im)};
      cpx o = cmul({0.5f * (a.re - b.re), 0.5f * (a.im - b.im)}, cconj(tw_[k]));
      z[k] = cconj({e.re - o.im, e.im + o.re});  // conj(E + iO): the inverse runs as conj(FFT(conj))
    }
    plan_.forward(z, s);
    float inv = 1.0f / float(h);
    for (int64_t j = 0; j < h; ++j) {
      x[2 * j] = z[j].re * inv;
      x[2 * j + 1] = -z[j].im * inv;
    }
  }

 private:
  int64_t n_;
  bool even_;
  cpu::FftPlan plan_;
  std::vector<cpx> tw_;  // e^{-2 pi i k / n}, k <= n/2 (even n)
};

// outer x len x inner around `axis` of `shape`.
void split_axis(const Shape& shape, int axis, int64_t& outer, int64_t& inner) {
  outer = inner = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
}

int64_t row_grain(int64_t n) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1)); }

}  // namespace

void Rfft::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array a = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  int64_t outer, inner, len = a.shape(axis_), n = n_, bins = n / 2 + 1;
  split_axis(a.shape(), axis_, outer, inner);
  RealPlan plan(n);
  const float* x = a.data<float>();
  float* o = out.data<float>();
  ctx.pool.parallel_for(outer * inner, row_grain(n), [&](int64_t b, int64_t e) {
    std::vector<float> line(n);
    std::vector<cpx> spec(bins), scratch(plan.scratch_size());
    for (int64_t r = b; r < e; ++r) {
      int64_t p = r / inner, q = r % inner;
      const float* src = x + p * len * inner + q;
      int64_t copy = std::min(len, n);
      for (int64_t j = 0; j < copy; ++j) line[j] = src[j * inner];
      std::fill(line.begin() + copy, line.end(), 0.0f);
      plan.forward(line.data(), spec.data(), scratch.data());
      float* dst = o + (p * bins * inner + q) * 2;
      for (int64_t k = 0; k < bins; ++k) {
        dst[k * inner * 2] = spec[k].re;
        dst[k * inner * 2 + 1] = spec[k].im;
      }
    }
  });
}

void Irfft::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array a = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  Shape complex_shape(a.shape().begin(), a.shape().end() - 1);
  int64_t outer, inner, m = a.shape(axis_), n = n_, bins = n / 2 + 1;
  split_axis(complex_shape, axis_, outer, inner);
  RealPlan plan(n);
  const float* x = a.data<float>();
  float* o = out.data<float>();
  ctx.pool.parallel_for(outer * inner, row_grain(n), [&](int64_t b, int64_t e) {
    std::vector<float> line(n);
    std::vector<cpx> spec(bins), scratch(plan.scratch_size());
    for (int64_t r = b; r < e; ++r) {
      int64_t p = r / inner, q = r % inner;
      const float* src = x + (p * m * inner + q) * 2;
      int64_t copy = std::min(m, bins);
      for (int64_t k = 0; k < copy; ++k) spec[k] = {src[k * inner * 2], src[k * inner * 2 + 1]};
      std::fill(spec.begin() + copy, spec.end(), cpx{0.0f, 0.0f});
      plan.inverse(spec.data(), line.data(), scratch.data());
      float* dst = o + p * n * inner + q;
      for (int64_t j = 0; j < n; ++j) dst[j * inner] = line[j];
    }
  });
}

}  // namespace tessera
