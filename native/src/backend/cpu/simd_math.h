// Float32 math for the elementwise kernels: AVX2/FMA versions on 8 lanes, and scalar versions with
// the same formulas and special values for builds without AVX2 (and for reference).
//
// Accuracy, worst case measured by packages/core/test/elementwise_math.test.ts against float64 over
// dense grids and magnitudes 1e-30..1e30 (a correctly rounded result is within 0.5 ulp): exp 1.2
// ulp, log 0.8, log1p 2.4, sin/cos 1.5, tanh 1.3, sigmoid 2.6, erf 2.3, silu 3.3, softplus 2.9,
// gelu (erf) 5.9, gelu (tanh) 30 ulp for x >= -5 (its float32 argument's rounding is scaled by
// |2u| in exp). Results below ~1e-36 may lose precision (subnormal intermediates). Special values
// are exact: f(+-inf), f(nan) = nan, and odd functions keep the sign of zero.
//
// Range reductions follow Cephes (exp: x = n ln2 + r; log: x = 2^e m, m in [sqrt(1/2), sqrt(2));
// sin/cos: x = j pi/2 + r with pi/2 in three parts); erf uses x P(x^2) below 1 and
// 1 - exp(-x^2) g(x) above, with P and g least-squares fits made for this file (mpmath).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TESSERA_SIMD_AVX2 1
#endif

namespace tessera::simd {

// erf(x)/x = P(x^2) on [0, 1] (relative error 1.2e-9 in float64).
inline constexpr float kErfP[] = {1.1283791657476365f,   -0.37612625883694295f,  0.11283585623824086f,
                                  -0.02685382815316703f, 0.005188354571442691f, -0.0008010407592309726f,
                                  7.854516546029755e-05f};
// erfc(x) exp(x^2) = g(t), t = 1 / (1 + x/2), on x in [0.5, 10.5] (relative error 1.7e-9 in
// float64, 3e-7 evaluated in float32).
inline constexpr float kErfcG[] = {3.4979841530002886e-06f, 0.2819855213165283f,   0.28358355164527893f,
                                   0.23519542813301086f,    0.23397278785705566f,  -0.10452109575271606f,
                                   0.4006752669811249f,     -0.6053867340087891f,  0.34816765785217285f,
                                   -0.07368277758359909f};
inline constexpr float kSqrtHalf = 0.70710678118654752f;
inline constexpr float kGeluTanhC = 0.7978845608028654f;  // sqrt(2/pi)

// ---------------------------------------------------------------------------------------------
// Scalar versions: libm where it is accurate, the same stable formulas as the vector code otherwise.
namespace scalar {

// 1 / (1 + e^-x), as e^x / (1 + e^x) for x < 0 so that e^-x never overflows while the result is
// still representable.
inline float sigmoid(float x) {
  float e = std::exp(-std::fabs(x)), r = 1.f / (1.f + e);
  return x < 0.f ? e * r : r;
}
// x * sigmoid(x); the limit -0 at -inf (x * 0 would give nan there).
inline float silu(float x) { return x < -200.f ? -0.f : x * sigmoid(x); }
// max(x, 0) + log1p(e^-|x|): no overflow, and exact tails.
inline float softplus(float x) { return std::fmax(x, 0.f) + std::log1p(std::exp(-std::fabs(x))); }
// 0.5 x erfc(-x / sqrt 2): erfc keeps the relative accuracy of the negative tail.
inline float gelu_exact(float x) { return float(0.5 * double(x) * std::erfc(-double(x) * kSqrtHalf)); }
// 0.5 x (1 + tanh(u)) = x sigmoid(2u), without the cancellation of 1 + tanh(u) for x < 0.
inline float gelu_tanh(float x) {
  if (x < -200.f) return -0.f;
  float u = kGeluTanhC * (x + 0.044715f * x * x * x);
  return x * sigmoid(2.f * u);
}

}  // namespace scalar

#if TESSERA_SIMD_AVX2

// Sum of the 8 lanes (shared by the row kernels: reductions, GEMM edges, attention, quantized dots).
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
// ---------------------------------------------------------------------------------------------
// AVX2 + FMA versions, 8 floats at a time.
using vf = __m256;
using vi = __m256i;

inline vf set1(float v) { return _mm256_set1_ps(v); }
inline vf vabs(vf x) { return _mm256_andnot_ps(set1(-0.f), x); }
inline vf sign_bit(vf x) { return _mm256_and_ps(set1(-0.f), x); }
inline vf fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
inline vf lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline vf eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
inline vf isnan(vf a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
inline vf select(vf mask, vf a, vf b) { return _mm256_blendv_ps(b, a, mask); }  // mask ? a : b
// Clamp that keeps NaN (MAXPS/MINPS return their second operand when either is NaN).
inline vf clamp(vf x, float lo, float hi) { return _mm256_min_ps(set1(hi), _mm256_max_ps(set1(lo), x)); }

template <size_t N>
inline vf horner(vf x, const float (&c)[N]) {
  vf r = set1(c[N - 1]);
  for (size_t i = N - 1; i-- > 0;) r = fma(r, x, set1(c[i]));
  return r;
}

// 2^n for integer-valued n in [-126, 127].
inline vf pow2i(vi n) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23)); }

inline vf exp(vf x) {
  // Outside [-104, 89] the result is 0 or inf anyway; clamping keeps n in the range of the scaling.
  x = clamp(x, -104.f, 89.f);
  vf n = _mm256_round_ps(_mm256_mul_ps(x, set1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf r = _mm256_fnmadd_ps(n, set1(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, set1(-2.12194440e-4f), r);
  static constexpr float P[] = {5.0000001201E-1f, 1.6666665459E-1f, 4.1665795894E-2f,
                                8.3334519073E-3f, 1.3981999507E-3f, 1.9875691500E-4f};
  vf p = fma(_mm256_mul_ps(r, r), horner(r, P), _mm256_add_ps(r, set1(1.f)));
  // Scale by 2^n in two steps so results near overflow and in the subnormal range come out right.
  vi ni = _mm256_cvtps_epi32(n);
  vi n1 = _mm256_srai_epi32(ni, 1);
  return _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(_mm256_sub_epi32(ni, n1)));
}

inline vf log(vf x) {
  // Subnormals: scale into the normal range first.
  vf sub = lt(x, set1(1.17549435e-38f));
  vf xs = select(sub, _mm256_mul_ps(x, set1(8388608.f)), x);
  vf eadj = select(sub, set1(-23.f), set1(0.f));
  vi bits = _mm256_castps_si256(xs);
  vf e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
  vf m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                                             _mm256_set1_epi32(0x3f000000)));  // in [0.5, 1)
  vf small = lt(m, set1(0.707106781186547524f));
  e = _mm256_add_ps(_mm256_sub_ps(e, _mm256_and_ps(small, set1(1.f))), eadj);
  vf f = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(small, m)), set1(1.f));
  static constexpr float P[] = {3.3333331174E-1f,  -2.4999993993E-1f, 2.0000714765E-1f,
                                -1.6668057665E-1f, 1.4249322787E-1f,  -1.2420140846E-1f,
                                1.1676998740E-1f,  -1.1514610310E-1f, 7.0376836292E-2f};
  vf z = _mm256_mul_ps(f, f);
  vf y = _mm256_mul_ps(_mm256_mul_ps(f, z), horner(f, P));
  y = fma(e, set1(-2.12194440e-4f), y);
  y = fma(z, set1(-0.5f), y);
  vf r = fma(e, set1(0.693359375f), _mm256_add_ps(f, y));
  // log(0) = -inf, log(x < 0) = nan, log(inf) = inf, log(nan) = nan.
  r = select(eq(x, set1(INFINITY)), x, r);
  r = select(lt(x, set1(0.f)), set1(NAN), r);
  r = select(eq(x, set1(0.f)), set1(-INFINITY), r);
  return select(isnan(x), x, r);
}

// log1p(x) = log(u) * x / (u - 1) with u = 1 + x: the factor corrects the rounding of u (Goldberg).
inline vf log1p(vf x) {
  vf u = _mm256_add_ps(x, set1(1.f));
  vf um1 = _mm256_sub_ps(u, set1(1.f));
  vf r = _mm256_mul_ps(log(u), _mm256_div_ps(x, um1));
  r = select(eq(um1, set1(0.f)), x, r);  // tiny x (and +-0): log1p(x) = x
  r = select(eq(x, set1(-1.f)), set1(-INFINITY), r);
  return select(eq(x, set1(INFINITY)), x, r);
}

// 1 / (1 + e^-x), as e^x / (1 + e^x) for x < 0 so that e^-x never overflows while the result is
// still representable (down to the subnormals).
inline vf sigmoid(vf x) {
  vf e = exp(_mm256_or_ps(vabs(x), set1(-0.f)));  // e^-|x|
  vf r = _mm256_div_ps(set1(1.f), _mm256_add_ps(set1(1.f), e));
  return select(lt(x, set1(0.f)), _mm256_mul_ps(e, r), r);
}

inline vf silu(vf x) {
  return select(lt(x, set1(-200.f)), set1(-0.f), _mm256_mul_ps(x, sigmoid(x)));  // -inf * 0 would be nan
}

// tanh(|x|) with the sign of x put back (so tanh(-0) = -0).
inline vf tanh(vf x) {
  vf ax = vabs(x);
  // |x| < 0.625: odd polynomial (Cephes tanhf).
  static constexpr float P[] = {-3.33332819422E-1f, 1.33314422036E-1f, -5.37397155531E-2f, 2.06390887954E-2f,
                                -5.70498872745E-3f};
  vf z = _mm256_mul_ps(x, x);
  vf small = fma(_mm256_mul_ps(ax, z), horner(z, P), ax);
  // Otherwise 1 - 2 / (e^2|x| + 1), which is 1.0f beyond |x| = 9.1.
  vf e = exp(_mm256_add_ps(_mm256_min_ps(set1(9.1f), ax), _mm256_min_ps(set1(9.1f), ax)));
  vf large = _mm256_sub_ps(set1(1.f), _mm256_div_ps(set1(2.f), _mm256_add_ps(e, set1(1.f))));
  vf r = _mm256_or_ps(select(lt(ax, set1(0.625f)), small, large), sign_bit(x));
  return select(isnan(x), x, r);
}

// exp(-(hi + lo)) for a product x*x = hi + lo split exactly by FMA: the split keeps the relative
// accuracy of exp(-x^2) when x^2 is large.
inline vf exp_neg_square(vf x, float scale) {
  vf hi = _mm256_mul_ps(x, x);
  vf lo = _mm256_fmsub_ps(x, x, hi);
  hi = _mm256_mul_ps(hi, set1(scale));
  lo = _mm256_mul_ps(lo, set1(scale));
  vf e = exp(_mm256_sub_ps(set1(0.f), hi));
  return _mm256_fnmadd_ps(e, lo, e);  // e * (1 - lo)
}

// erfc(z) for z >= 0.5, given exp(-z^2).
inline vf erfc_tail(vf z, vf exp_neg_z2) {
  vf t = _mm256_div_ps(set1(1.f), fma(z, set1(0.5f), set1(1.f)));
  return _mm256_mul_ps(exp_neg_z2, horner(t, kErfcG));
}

inline vf erf(vf x) {
  vf ax = vabs(x);
  vf small = _mm256_mul_ps(x, horner(_mm256_mul_ps(x, x), kErfP));
  vf axc = _mm256_min_ps(set1(10.5f), ax);  // beyond, erfc is 0 in float32
  vf large = _mm256_sub_ps(set1(1.f), erfc_tail(axc, exp_neg_square(axc, 1.f)));
  large = _mm256_or_ps(large, sign_bit(x));
  vf r = select(lt(ax, set1(1.f)), small, large);
  return select(isnan(x), x, r);
}

// 0.5 x (1 + erf(x / sqrt 2)), using erfc for |x / sqrt 2| >= 0.5 so that 1 + erf never cancels
// much and the negative tail keeps its relative accuracy.
inline vf gelu_exact(vf x) {
  vf z = _mm256_mul_ps(x, set1(kSqrtHalf));
  vf az = vabs(z);
  vf half_x = _mm256_mul_ps(x, set1(0.5f));
  vf small = fma(half_x, _mm256_mul_ps(z, horner(_mm256_mul_ps(z, z), kErfP)), half_x);
  // Beyond |x| = 14.8 erfc(|z|) is 0 in float32; clamping keeps inf * 0 out of 0.5 x erfc.
  vf xc = clamp(x, -14.8f, 14.8f);
  vf axc = vabs(xc);
  vf c = erfc_tail(_mm256_mul_ps(axc, set1(kSqrtHalf)), exp_neg_square(axc, 0.5f));  // erfc(|z|)
  vf hc = _mm256_mul_ps(_mm256_mul_ps(xc, set1(0.5f)), c);
  vf large = select(lt(x, set1(0.f)), hc, _mm256_sub_ps(x, hc));
  vf r = select(lt(az, set1(0.5f)), small, large);
  return select(isnan(x), x, r);
}

inline vf gelu_tanh(vf x) {
  vf u = _mm256_mul_ps(set1(kGeluTanhC), fma(_mm256_mul_ps(set1(0.044715f), x), _mm256_mul_ps(x, x), x));
  vf r = _mm256_mul_ps(x, sigmoid(_mm256_add_ps(u, u)));
  return select(lt(x, set1(-200.f)), set1(-0.f), r);
}

inline vf softplus(vf x) {
  vf e = exp(_mm256_sub_ps(set1(0.f), vabs(x)));
  return _mm256_add_ps(_mm256_max_ps(set1(0.f), x), log1p(e));  // max(0, nan) is nan
}

// Arguments beyond this lose accuracy in the three-part reduction; such lanes go to libm.
inline constexpr float kTrigLimit = 65536.f;

// sin (cos_shift = 0) or cos (cos_shift = 1) of |x| < kTrigLimit, via x = j pi/2 + r.
inline vf sincos_core(vf x, int cos_shift) {
  vf ax = vabs(x);
  vf j = _mm256_round_ps(_mm256_mul_ps(ax, set1(0.636619772367581343f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf r = _mm256_fnmadd_ps(j, set1(1.5707963705062866f), ax);
  r = _mm256_fnmadd_ps(j, set1(-4.3711388286737929e-08f), r);
  r = _mm256_fnmadd_ps(j, set1(-1.7151245100059706e-15f), r);
  vi q = _mm256_add_epi32(_mm256_cvtps_epi32(j), _mm256_set1_epi32(cos_shift));
  static constexpr float S[] = {-1.6666654611E-1f, 8.3321608736E-3f, -1.9515295891E-4f};
  static constexpr float C[] = {4.166664568298827E-2f, -1.388731625493765E-3f, 2.443315711809948E-5f};
  vf z = _mm256_mul_ps(r, r);
  vf s = fma(_mm256_mul_ps(r, z), horner(z, S), r);
  vf c = fma(_mm256_mul_ps(z, z), horner(z, C), fma(z, set1(-0.5f), set1(1.f)));
  // Quadrant q: q & 1 picks cos, q & 2 flips the sign.
  vf use_cos = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(q, _mm256_set1_epi32(1)), _mm256_set1_epi32(1)));
  vf flip = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(q, _mm256_set1_epi32(2)), 30));
  vf v = _mm256_xor_ps(select(use_cos, c, s), flip);
  if (!cos_shift) v = _mm256_xor_ps(v, sign_bit(x));  // sin is odd (keeps sin(-0) = -0)
  return v;
}

template <float (*F)(float)>
inline vf with_libm_lanes(vf x, vf v) {
  // Lanes with huge finite arguments (rare) are recomputed with libm's full reduction.
  vf big = _mm256_and_ps(_mm256_cmp_ps(vabs(x), set1(kTrigLimit), _CMP_GE_OQ), lt(vabs(x), set1(INFINITY)));
  if (!_mm256_movemask_ps(big)) return v;
  alignas(32) float xs[8], vs[8];
  _mm256_store_ps(xs, x);
  _mm256_store_ps(vs, v);
  int m = _mm256_movemask_ps(big);
  for (int i = 0; i < 8; ++i)
    if (m & (1 << i)) vs[i] = F(xs[i]);
  return _mm256_load_ps(vs);
}
inline float libm_sin(float x) { return std::sin(x); }
inline float libm_cos(float x) { return std::cos(x); }
inline vf sin(vf x) { return with_libm_lanes<libm_sin>(x, sincos_core(x, 0)); }
inline vf cos(vf x) { return with_libm_lanes<libm_cos>(x, sincos_core(x, 1)); }
#endif  // TESSERA_SIMD_AVX2

}  // namespace tessera::simd
