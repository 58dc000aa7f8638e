// Contiguous float32 elementwise kernels: AVX2/FMA over 8 lanes (the tail through masked loads, so
// every element takes the same path), scalar libm code where AVX2 is missing.
#include "backend/cpu/elementwise_kernels.h"

#include <algorithm>
#include <cmath>

#include "backend/cpu/simd_math.h"
#include "tessera/dtype.h"

namespace tessera::cpu {

namespace {

// Scalar semantics of every op; the vector code matches them (NumPy's for floats).
[[maybe_unused]] float unary_scalar(UnaryOp op, float v) {
  switch (op) {
    case UnaryOp::Abs: return std::fabs(v);
    case UnaryOp::Neg: return -v;
    case UnaryOp::Sign: return std::isnan(v) ? v : float((0.f < v) - (v < 0.f));
    case UnaryOp::Square: return v * v;
    case UnaryOp::Exp: return std::exp(v);
    case UnaryOp::Log: return std::log(v);
    case UnaryOp::Log1p: return std::log1p(v);
    case UnaryOp::Sqrt: return std::sqrt(v);
    case UnaryOp::Rsqrt: return 1.f / std::sqrt(v);
    case UnaryOp::Sin: return std::sin(v);
    case UnaryOp::Cos: return std::cos(v);
    case UnaryOp::Tanh: return std::tanh(v);
    case UnaryOp::Sigmoid: return simd::scalar::sigmoid(v);
    case UnaryOp::Erf: return std::erf(v);
    case UnaryOp::GeluExact: return simd::scalar::gelu_exact(v);
    case UnaryOp::GeluTanh: return simd::scalar::gelu_tanh(v);
    case UnaryOp::Silu: return simd::scalar::silu(v);
    case UnaryOp::Relu: return std::isnan(v) ? v : (v > 0.f ? v : 0.f);
    case UnaryOp::Softplus: return simd::scalar::softplus(v);
    case UnaryOp::Round: return std::nearbyint(v);  // half to even, as NumPy
    case UnaryOp::Floor: return std::floor(v);
    case UnaryOp::Ceil: return std::ceil(v);
    case UnaryOp::Reciprocal: return 1.f / v;
    case UnaryOp::LogicalNot: return v == 0.f ? 1.f : 0.f;
  }
  return 0.f;
}

// NumPy's floor division and remainder (npy_divmod): the quotient is computed from fmod so that
// q * b + r == a holds as closely as floats allow, e.g. 1 // 0.1 == 9.
inline float floor_div(float a, float b) {
  if (b == 0.f) return a / b;
  float mod = std::fmod(a, b);
  float div = (a - mod) / b;
  if (mod != 0.f && ((b < 0.f) != (mod < 0.f))) div -= 1.f;
  if (div == 0.f) return std::copysign(0.f, a / b);
  float fl = std::floor(div);
  return div - fl > 0.5f ? fl + 1.f : fl;
}
inline float remainder(float a, float b) {
  if (b == 0.f) return std::fmod(a, b);
  float mod = std::fmod(a, b);
  if (mod == 0.f) return std::copysign(0.f, b);
  return (b < 0.f) != (mod < 0.f) ? mod + b : mod;
}

float binary_scalar(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
    case BinaryOp::FloorDiv: return floor_div(x, y);
    case BinaryOp::Mod: return remainder(x, y);
    case BinaryOp::Pow: return std::pow(x, y);
    case BinaryOp::Maximum: return (std::isnan(x) || std::isnan(y)) ? x + y : (x > y ? x : y);
    case BinaryOp::Minimum: return (std::isnan(x) || std::isnan(y)) ? x + y : (x < y ? x : y);
    case BinaryOp::Equal: return x == y;
    case BinaryOp::NotEqual: return x != y;
    case BinaryOp::Less: return x < y;
    case BinaryOp::LessEqual: return x <= y;
    case BinaryOp::Greater: return x > y;
    case BinaryOp::GreaterEqual: return x >= y;
    case BinaryOp::LogicalAnd: return (x != 0.f) && (y != 0.f);
    case BinaryOp::LogicalOr: return (x != 0.f) || (y != 0.f);
  }
  return 0.f;
}

#if TESSERA_SIMD_AVX2
using simd::vf;

// Lanes [0, k) set.
inline __m256i tail_mask(int64_t k) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(k)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Outputs this large go straight to memory (non-temporal stores): they cannot stay in cache for
// the next op, and skipping the read-for-ownership of each line saves a third of the traffic.
constexpr int64_t kStreamElems = int64_t(4) << 20;

template <typename F>
void map1(const float* x, float* out, int64_t n, F f) {
  int64_t i = 0;
  bool stream = n >= kStreamElems && (x + n <= out || out + n <= x);
  if (stream) {
    int64_t head = std::min<int64_t>(n, ((32 - int64_t(reinterpret_cast<uintptr_t>(out) & 31)) & 31) / 4);
    if (head) {
      __m256i m = tail_mask(head);
      _mm256_maskstore_ps(out, m, f(_mm256_maskload_ps(x, m)));
    }
    for (i = head; i + 8 <= n; i += 8) _mm256_stream_ps(out + i, f(_mm256_loadu_ps(x + i)));
    _mm_sfence();
  } else {
    // One vector per iteration: out-of-order execution overlaps iterations already, and unrolling
    // the longer functions (gelu, erf, log) spills registers (measured 15-35% slower).
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, f(_mm256_loadu_ps(x + i)));
  }
  if (i < n) {
    __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(out + i, m, f(_mm256_maskload_ps(x + i, m)));
  }
}

// One operand may be a broadcast scalar (stride 0).
template <bool SA, bool SB, typename F>
void map2(const float* a, const float* b, float* out, int64_t n, F f) {
  vf va = _mm256_set1_ps(a[0]), vb = _mm256_set1_ps(b[0]);
  auto ld = [](const float* p, int64_t i, vf bc, bool strided) { return strided ? _mm256_loadu_ps(p + i) : bc; };
  int64_t i = 0;
  bool stream = n >= kStreamElems && (!SA || a + n <= out || out + n <= a) && (!SB || b + n <= out || out + n <= b);
  if (stream) {
    int64_t head = std::min<int64_t>(n, ((32 - int64_t(reinterpret_cast<uintptr_t>(out) & 31)) & 31) / 4);
    if (head) {
      __m256i m = tail_mask(head);
      _mm256_maskstore_ps(out, m, f(SA ? _mm256_maskload_ps(a, m) : va, SB ? _mm256_maskload_ps(b, m) : vb));
    }
    for (i = head; i + 8 <= n; i += 8) _mm256_stream_ps(out + i, f(ld(a, i, va, SA), ld(b, i, vb, SB)));
    _mm_sfence();
  } else {
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, f(ld(a, i, va, SA), ld(b, i, vb, SB)));
  }
  if (i < n) {
    __m256i m = tail_mask(n - i);
    vf x = SA ? _mm256_maskload_ps(a + i, m) : va, y = SB ? _mm256_maskload_ps(b + i, m) : vb;
    _mm256_maskstore_ps(out + i, m, f(x, y));
  }
}

template <typename F>
void map2_any(const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n, F f) {
  if (sa && sb) map2<true, true>(a, b, out, n, f);
  else if (sa) map2<true, false>(a, b, out, n, f);
  else if (sb) map2<false, true>(a, b, out, n, f);
  else map2<false, false>(a, b, out, n, f);
}

inline vf one() { return _mm256_set1_ps(1.f); }
inline vf zero() { return _mm256_setzero_ps(); }
template <int CMP>
inline vf cmp01(vf x, vf y) { return _mm256_and_ps(_mm256_cmp_ps(x, y, CMP), one()); }
#endif  // TESSERA_SIMD_AVX2

}  // namespace

void unary_f32(UnaryOp op, const float* x, float* out, int64_t n) {
#if TESSERA_SIMD_AVX2
  namespace s = simd;
  switch (op) {
    case UnaryOp::Abs: return map1(x, out, n, [](vf v) { return s::vabs(v); });
    case UnaryOp::Neg: return map1(x, out, n, [](vf v) { return _mm256_xor_ps(v, _mm256_set1_ps(-0.f)); });
    case UnaryOp::Sign: return map1(x, out, n, [](vf v) {
        vf r = _mm256_sub_ps(cmp01<_CMP_GT_OQ>(v, zero()), cmp01<_CMP_LT_OQ>(v, zero()));
        return s::select(s::isnan(v), v, r);
      });
    case UnaryOp::Square: return map1(x, out, n, [](vf v) { return _mm256_mul_ps(v, v); });
    case UnaryOp::Exp: return map1(x, out, n, [](vf v) { return s::exp(v); });
    case UnaryOp::Log: return map1(x, out, n, [](vf v) { return s::log(v); });
    case UnaryOp::Log1p: return map1(x, out, n, [](vf v) { return s::log1p(v); });
    case UnaryOp::Sqrt: return map1(x, out, n, [](vf v) { return _mm256_sqrt_ps(v); });
    case UnaryOp::Rsqrt: return map1(x, out, n, [](vf v) { return _mm256_div_ps(one(), _mm256_sqrt_ps(v)); });
    case UnaryOp::Sin: return map1(x, out, n, [](vf v) { return s::sin(v); });
    case UnaryOp::Cos: return map1(x, out, n, [](vf v) { return s::cos(v); });
    case UnaryOp::Tanh: return map1(x, out, n, [](vf v) { return s::tanh(v); });
    case UnaryOp::Sigmoid: return map1(x, out, n, [](vf v) { return s::sigmoid(v); });
    case UnaryOp::Erf: return map1(x, out, n, [](vf v) { return s::erf(v); });
    case UnaryOp::GeluExact: return map1(x, out, n, [](vf v) { return s::gelu_exact(v); });
    case UnaryOp::GeluTanh: return map1(x, out, n, [](vf v) { return s::gelu_tanh(v); });
    case UnaryOp::Silu: return map1(x, out, n, [](vf v) { return s::silu(v); });
    case UnaryOp::Relu: return map1(x, out, n, [](vf v) { return s::select(s::isnan(v), v, _mm256_max_ps(v, zero())); });
    case UnaryOp::Softplus: return map1(x, out, n, [](vf v) { return s::softplus(v); });
    case UnaryOp::Round:
      return map1(x, out, n, [](vf v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); });
    case UnaryOp::Floor: return map1(x, out, n, [](vf v) { return _mm256_floor_ps(v); });
    case UnaryOp::Ceil: return map1(x, out, n, [](vf v) { return _mm256_ceil_ps(v); });
    case UnaryOp::Reciprocal: return map1(x, out, n, [](vf v) { return _mm256_div_ps(one(), v); });
    case UnaryOp::LogicalNot: return map1(x, out, n, [](vf v) { return cmp01<_CMP_EQ_OQ>(v, zero()); });
  }
#else
  for (int64_t i = 0; i < n; ++i) out[i] = unary_scalar(op, x[i]);
#endif
}

void binary_f32(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
#if TESSERA_SIMD_AVX2
  auto nan_either = [](vf x, vf y) { return _mm256_cmp_ps(x, y, _CMP_UNORD_Q); };
  switch (op) {
    case BinaryOp::Add: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return _mm256_add_ps(x, y); });
    case BinaryOp::Sub: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return _mm256_sub_ps(x, y); });
    case BinaryOp::Mul: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return _mm256_mul_ps(x, y); });
    case BinaryOp::Div: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return _mm256_div_ps(x, y); });
    case BinaryOp::Maximum:
      return map2_any(a, sa, b, sb, out, n, [&](vf x, vf y) {
        return simd::select(nan_either(x, y), _mm256_add_ps(x, y), _mm256_max_ps(x, y));
      });
    case BinaryOp::Minimum:
      return map2_any(a, sa, b, sb, out, n, [&](vf x, vf y) {
        return simd::select(nan_either(x, y), _mm256_add_ps(x, y), _mm256_min_ps(x, y));
      });
    case BinaryOp::Equal: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return cmp01<_CMP_EQ_OQ>(x, y); });
    case BinaryOp::NotEqual: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return cmp01<_CMP_NEQ_UQ>(x, y); });
    case BinaryOp::Less: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return cmp01<_CMP_LT_OQ>(x, y); });
    case BinaryOp::LessEqual: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return cmp01<_CMP_LE_OQ>(x, y); });
    case BinaryOp::Greater: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return cmp01<_CMP_GT_OQ>(x, y); });
    case BinaryOp::GreaterEqual: return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) { return cmp01<_CMP_GE_OQ>(x, y); });
    case BinaryOp::LogicalAnd:
      return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) {
        return _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(x, zero(), _CMP_NEQ_UQ), _mm256_cmp_ps(y, zero(), _CMP_NEQ_UQ)), one());
      });
    case BinaryOp::LogicalOr:
      return map2_any(a, sa, b, sb, out, n, [](vf x, vf y) {
        return _mm256_and_ps(_mm256_or_ps(_mm256_cmp_ps(x, zero(), _CMP_NEQ_UQ), _mm256_cmp_ps(y, zero(), _CMP_NEQ_UQ)), one());
      });
    default: break;  // floorDivide, remainder, power: scalar below
  }
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = binary_scalar(op, a[i * sa], b[i * sb]);
}

void f16_to_f32(const uint16_t* x, float* out, int64_t n) {
  int64_t i = 0;
#if TESSERA_SIMD_AVX2 && defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
#endif
  for (; i < n; ++i) out[i] = half_to_float(x[i]);
}

void f32_to_f16(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
#if TESSERA_SIMD_AVX2 && defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
#endif
  for (; i < n; ++i) out[i] = float_to_half(x[i]);
}

void bf16_to_f32(const uint16_t* x, float* out, int64_t n) {
  int64_t i = 0;
#if TESSERA_SIMD_AVX2
  for (; i + 8 <= n; i += 8) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_ps(out + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
  }
#endif
  for (; i < n; ++i) out[i] = bf16_to_float(x[i]);
}

void f32_to_bf16(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
#if TESSERA_SIMD_AVX2
  for (; i + 8 <= n; i += 8) {
    __m256 f = _mm256_loadu_ps(x + i);
    __m256i u = _mm256_castps_si256(f);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
    __m256i qnan = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
    r = _mm256_castps_si256(simd::select(simd::isnan(f), _mm256_castsi256_ps(qnan), _mm256_castsi256_ps(r)));
    // Pack the 32-bit lanes to 16 bits (packus works within 128-bit halves, hence the permute).
    __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_castsi256_si128(p));
  }
#endif
  for (; i < n; ++i) out[i] = float_to_bf16(x[i]);
}

}  // namespace tessera::cpu
