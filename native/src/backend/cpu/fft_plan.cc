#include "backend/cpu/fft_plan.h"

#include <cmath>
#include <cstring>

namespace tessera::cpu {

namespace {

// Primes above this use Bluestein: a direct radix-p butterfly costs O(p) per element.
constexpr int64_t kMaxDirectPrime = 31;

inline cpx add(cpx a, cpx b) { return {a.re + b.re, a.im + b.im}; }
inline cpx sub(cpx a, cpx b) { return {a.re - b.re, a.im - b.im}; }
inline cpx mul(cpx a, cpx b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
inline cpx scale(cpx a, float s) { return {a.re * s, a.im * s}; }
inline cpx mul_neg_i(cpx a) { return {a.im, -a.re}; }  // -i * a
inline cpx conj(cpx a) { return {a.re, -a.im}; }


// Forward DFTs of the small radices, t in, s out.
inline void dft2(const cpx* t, cpx* s) {
  s[0] = add(t[0], t[1]);
  s[1] = sub(t[0], t[1]);
}

inline void dft3(const cpx* t, cpx* s) {
  const float c = -0.5f, sn = 0.86602540378443865f;
  cpx sum = add(t[1], t[2]);
  cpx a = add(t[0], scale(sum, c));
  cpx b = mul_neg_i(scale(sub(t[1], t[2]), sn));
  s[0] = add(t[0], sum);
  s[1] = add(a, b);
  s[2] = sub(a, b);
}

inline void dft4(const cpx* t, cpx* s) {
  cpx a = add(t[0], t[2]), b = sub(t[0], t[2]), c = add(t[1], t[3]), d = mul_neg_i(sub(t[1], t[3]));
  s[0] = add(a, c);
  s[2] = sub(a, c);
  s[1] = add(b, d);
  s[3] = sub(b, d);
}

inline void dft5(const cpx* t, cpx* s) {
  const float c1 = 0.30901699437494742f, c2 = -0.80901699437494742f;
  const float s1 = 0.95105651629515357f, s2 = 0.58778525229247313f;
  cpx p14 = add(t[1], t[4]), m14 = sub(t[1], t[4]), p23 = add(t[2], t[3]), m23 = sub(t[2], t[3]);
  cpx a1 = add(t[0], add(scale(p14, c1), scale(p23, c2)));
  cpx a2 = add(t[0], add(scale(p14, c2), scale(p23, c1)));
  cpx b1 = mul_neg_i(add(scale(m14, s1), scale(m23, s2)));
  cpx b2 = mul_neg_i(sub(scale(m14, s2), scale(m23, s1)));
  s[0] = add(t[0], add(p14, p23));
  s[1] = add(a1, b1);
  s[4] = sub(a1, b1);
  s[2] = add(a2, b2);
  s[3] = sub(a2, b2);
}

// One pass of radix P: for each k < l1 and i < ido, a DFT across CC(i, 0..P-1, k), its outputs
// u >= 1 multiplied by the twiddle e^{-2 pi i u i / (ido P)}, stored at CH(i, k, u).
template <int P, typename Dft>
void pass_fixed(int64_t ido, int64_t l1, const cpx* cc, cpx* ch, const cpx* tw, Dft dft) {
  for (int64_t k = 0; k < l1; ++k) {
    for (int64_t i = 0; i < ido; ++i) {
      cpx t[P], s[P];
      for (int j = 0; j < P; ++j) t[j] = cc[i + ido * (j + P * k)];
      dft(t, s);
      ch[i + ido * k] = s[0];
      for (int u = 1; u < P; ++u) ch[i + ido * (k + l1 * u)] = i == 0 ? s[u] : mul(s[u], tw[(u - 1) * ido + i]);
    }
  }
}

}  // namespace

cpx unit_root(double turns) {
  double a = -2.0 * M_PI * turns, c = std::cos(a), s = std::sin(a);
  // A nonzero cos/sin of k/n turns is at least ~1/n; rounding leaves ~1e-16 where it is zero.
  return {std::abs(c) < 1e-13 ? 0.0f : float(c), std::abs(s) < 1e-13 ? 0.0f : float(s)};
}

FftPlan::FftPlan(int64_t n) : n_(n) {
  // Factor into 4s, then 2, 3, 5 and other primes; a large prime factor makes the whole length Bluestein.
  std::vector<int64_t> factors;
  int64_t rest = n;
  while (rest % 4 == 0) { factors.push_back(4); rest /= 4; }
  for (int64_t p : {2, 3, 5}) while (rest % p == 0) { factors.push_back(p); rest /= p; }
  for (int64_t p = 7; p * p <= rest; p += 2)
    while (rest % p == 0) { factors.push_back(p); rest /= p; }
  if (rest > 1) factors.push_back(rest);
  for (int64_t f : factors) {
    if (f > kMaxDirectPrime) {
      int64_t m = 1;
      while (m < 2 * n - 1) m *= 2;
      conv_ = std::make_unique<FftPlan>(m);
      chirp_.resize(n);
      for (int64_t k = 0; k < n; ++k)  // k^2 mod 2n keeps the angle exact for large k
        chirp_[k] = unit_root(double((uint64_t(k) * uint64_t(k)) % uint64_t(2 * n)) / double(2 * n));
      filter_.assign(m, cpx{0, 0});
      filter_[0] = conj(chirp_[0]);
      for (int64_t k = 1; k < n; ++k) filter_[k] = filter_[m - k] = conj(chirp_[k]);
      std::vector<cpx> scratch(conv_->scratch_size());
      conv_->forward(filter_.data(), scratch.data());
      for (auto& v : filter_) v = scale(v, 1.0f / float(m));
      return;
    }
  }
  int64_t l1 = 1;
  for (int64_t f : factors) {
    Pass p{int(f), l1, n / (l1 * f), int64_t(twiddles_.size()), -1};
    for (int u = 1; u < f; ++u)
      for (int64_t i = 0; i < p.ido; ++i) twiddles_.push_back(unit_root(double(u * i) / double(p.ido * f)));
    if (f > 5) {
      p.roots_offset = int64_t(roots_.size());
      for (int r = 0; r < f; ++r) roots_.push_back(unit_root(double(r) / double(f)));
    }
    passes_.push_back(p);
    l1 *= f;
  }
}

int64_t FftPlan::scratch_size() const { return conv_ ? conv_->size() + conv_->scratch_size() : n_; }

void FftPlan::run_pass(const Pass& p, const cpx* cc, cpx* ch) const {
  const cpx* tw = twiddles_.data() + p.twiddle_offset;
  switch (p.radix) {
    case 2: return pass_fixed<2>(p.ido, p.l1, cc, ch, tw, dft2);
    case 3: return pass_fixed<3>(p.ido, p.l1, cc, ch, tw, dft3);
    case 4: return pass_fixed<4>(p.ido, p.l1, cc, ch, tw, dft4);
    case 5: return pass_fixed<5>(p.ido, p.l1, cc, ch, tw, dft5);
    default: break;
  }
  // Other small primes: the DFT across the radix by its roots of unity, O(radix^2) per group.
  const int r = p.radix;
  const cpx* roots = roots_.data() + p.roots_offset;
  cpx t[kMaxDirectPrime];
  for (int64_t k = 0; k < p.l1; ++k) {
    for (int64_t i = 0; i < p.ido; ++i) {
      for (int j = 0; j < r; ++j) t[j] = cc[i + p.ido * (j + r * k)];
      for (int u = 0; u < r; ++u) {
        cpx s = t[0];
        for (int j = 1; j < r; ++j) s = add(s, mul(t[j], roots[(u * j) % r]));
        ch[i + p.ido * (k + p.l1 * u)] = (u == 0 || i == 0) ? s : mul(s, tw[(u - 1) * p.ido + i]);
      }
    }
  }
}

void FftPlan::forward(cpx* data, cpx* scratch) const {
  if (conv_) return bluestein(data, scratch);
  cpx *src = data, *dst = scratch;
  for (const Pass& p : passes_) {
    run_pass(p, src, dst);
    std::swap(src, dst);
  }
  if (src != data) std::memcpy(data, src, size_t(n_) * sizeof(cpx));
}

// X_k = w_k sum_j (x_j w_j) conj(w_{k-j}): a circular convolution of length m done by FFTs, the
// inverse one as conj(FFT(conj(.))).
void FftPlan::bluestein(cpx* data, cpx* scratch) const {
  int64_t m = conv_->size();
  cpx* a = scratch;
  cpx* sub_scratch = scratch + m;
  for (int64_t k = 0; k < n_; ++k) a[k] = mul(data[k], chirp_[k]);
  std::memset(static_cast<void*>(a + n_), 0, size_t(m - n_) * sizeof(cpx));
  conv_->forward(a, sub_scratch);
  for (int64_t k = 0; k < m; ++k) a[k] = conj(mul(a[k], filter_[k]));
  conv_->forward(a, sub_scratch);
  for (int64_t k = 0; k < n_; ++k) data[k] = mul(conj(a[k]), chirp_[k]);
}

}  // namespace tessera::cpu
