// Element types, their sizes and names, type promotion, and half-precision conversion.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <string_view>
#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace tessera {

enum class Dtype : uint8_t { Bool, UInt8, Int8, Int16, Int32, UInt32, Int64, Float16, BFloat16, Float32 };
constexpr int kNumDtypes = 10;

size_t itemsize(Dtype dt);
const char* dtype_name(Dtype dt);
Dtype dtype_from_name(std::string_view name);  // throws std::invalid_argument naming the dtype
bool is_floating(Dtype dt);
bool is_integral(Dtype dt);  // ints and bool
bool is_signed(Dtype dt);
// NumPy-style promotion restricted to our dtypes (f16 with bf16 gives f32, int with float gives the float).
Dtype promote_types(Dtype a, Dtype b);

struct float16_t {
  uint16_t bits;
};
struct bfloat16_t {
  uint16_t bits;
};

inline float half_to_float(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu, f;
  if (exp == 0) {
    if (man == 0) {
      f = sign;
    } else {  // subnormal: renormalize
      exp = 127 - 15 + 1;
      while (!(man & 0x400u)) { man <<= 1; --exp; }
      f = sign | (exp << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    f = sign | 0x7f800000u | (man << 13);
  } else {
    f = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float out;
  std::memcpy(&out, &f, 4);
  return out;
#endif
}

inline uint16_t float_to_half(float v) {
#if defined(__F16C__)
  return _cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT);
#else
  uint32_t x;
  std::memcpy(&x, &v, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = int32_t((x >> 23) & 0xff) - 127 + 15;
  uint32_t man = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff) return uint16_t(sign | 0x7c00u | (man ? 0x200u : 0));
  if (exp >= 31) return uint16_t(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return uint16_t(sign);
    man |= 0x800000u;
    uint32_t shift = uint32_t(14 - exp);
    uint32_t half_man = man >> shift, rem = man & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_man & 1))) ++half_man;
    return uint16_t(sign | half_man);
  }
  uint32_t h = sign | (uint32_t(exp) << 10) | (man >> 13);
  uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;  // round to nearest even (may carry into exp)
  return uint16_t(h);
#endif
}

inline float bf16_to_float(uint16_t b) {
  uint32_t x = uint32_t(b) << 16;
  float out;
  std::memcpy(&out, &x, 4);
  return out;
}

inline uint16_t float_to_bf16(float v) {
  uint32_t x;
  std::memcpy(&x, &v, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1);  // round to nearest even
  return uint16_t(x >> 16);
}

// Conversions used by kernels: every dtype goes through these to and from float/int64.
template <typename T>
inline float to_f32(T v) { return static_cast<float>(v); }
template <>
inline float to_f32(float16_t v) { return half_to_float(v.bits); }
template <>
inline float to_f32(bfloat16_t v) { return bf16_to_float(v.bits); }

template <typename T>
inline T from_f32(float v) { return static_cast<T>(v); }
template <>
inline float16_t from_f32(float v) { return float16_t{float_to_half(v)}; }
template <>
inline bfloat16_t from_f32(float v) { return bfloat16_t{float_to_bf16(v)}; }
template <>
inline bool from_f32(float v) { return v != 0.0f; }

template <typename T> struct is_half : std::false_type {};
template <> struct is_half<float16_t> : std::true_type {};
template <> struct is_half<bfloat16_t> : std::true_type {};
template <typename T> inline constexpr bool is_half_v = is_half<T>::value;

// The type a kernel computes in for storage type T: float for the halves, T otherwise.
template <typename T> struct compute_type { using type = T; };
template <> struct compute_type<float16_t> { using type = float; };
template <> struct compute_type<bfloat16_t> { using type = float; };
template <typename T> using compute_t = typename compute_type<T>::type;

template <typename T>
inline compute_t<T> load(T v) {
  if constexpr (is_half_v<T>) return to_f32(v); else return v;
}
template <typename T, typename C>
inline T store(C v) {
  if constexpr (is_half_v<T>) return from_f32<T>(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, bool>) return v != C(0);
  else return static_cast<T>(v);
}

template <Dtype D> struct dtype_type;
template <> struct dtype_type<Dtype::Bool> { using type = bool; };
template <> struct dtype_type<Dtype::UInt8> { using type = uint8_t; };
template <> struct dtype_type<Dtype::Int8> { using type = int8_t; };
template <> struct dtype_type<Dtype::Int16> { using type = int16_t; };
template <> struct dtype_type<Dtype::Int32> { using type = int32_t; };
template <> struct dtype_type<Dtype::UInt32> { using type = uint32_t; };
template <> struct dtype_type<Dtype::Int64> { using type = int64_t; };
template <> struct dtype_type<Dtype::Float16> { using type = float16_t; };
template <> struct dtype_type<Dtype::BFloat16> { using type = bfloat16_t; };
template <> struct dtype_type<Dtype::Float32> { using type = float; };

// Calls f.template operator()<T>() with T the storage type of dt.
template <typename F>
decltype(auto) dispatch_all(Dtype dt, F&& f) {
  switch (dt) {
    case Dtype::Bool: return f.template operator()<bool>();
    case Dtype::UInt8: return f.template operator()<uint8_t>();
    case Dtype::Int8: return f.template operator()<int8_t>();
    case Dtype::Int16: return f.template operator()<int16_t>();
    case Dtype::Int32: return f.template operator()<int32_t>();
    case Dtype::UInt32: return f.template operator()<uint32_t>();
    case Dtype::Int64: return f.template operator()<int64_t>();
    case Dtype::Float16: return f.template operator()<float16_t>();
    case Dtype::BFloat16: return f.template operator()<bfloat16_t>();
    case Dtype::Float32: return f.template operator()<float>();
  }
  __builtin_unreachable();
}

// Only the floating types (float32 and the halves); other dtypes throw naming `what`.
template <typename F>
decltype(auto) dispatch_float(Dtype dt, const char* what, F&& f) {
  switch (dt) {
    case Dtype::Float16: return f.template operator()<float16_t>();
    case Dtype::BFloat16: return f.template operator()<bfloat16_t>();
    case Dtype::Float32: return f.template operator()<float>();
    default: throw std::invalid_argument(std::string(what) + ": expected a floating dtype, got " + dtype_name(dt));
  }
}

}  // namespace tessera
