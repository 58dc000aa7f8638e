// Integer arithmetic of the elementwise kernels, with NumPy's results where C++ has undefined
// behaviour: sums and products wrap around, and division never traps.
#pragma once
#include <cstdint>
#include <type_traits>

namespace tessera::cpu {

// Computed in uint64 (two's complement wrap-around, then truncated): signed overflow, and the int
// promotion of 16-bit products, are undefined behaviour in C++.
template <typename C> inline C wrap_add(C x, C y) { return C(uint64_t(x) + uint64_t(y)); }
template <typename C> inline C wrap_sub(C x, C y) { return C(uint64_t(x) - uint64_t(y)); }
template <typename C> inline C wrap_mul(C x, C y) { return C(uint64_t(x) * uint64_t(y)); }
template <typename C> inline C wrap_neg(C x) { return C(uint64_t(0) - uint64_t(x)); }

// Floor division and remainder with the sign of the divisor (Python's // and %). Division by zero
// gives 0 for both (as NumPy, which also warns); MIN // -1 wraps to MIN and MIN % -1 is 0 (the
// hardware division would trap).
template <typename C>
inline C floor_div(C a, C b) {
  if (b == 0) return C(0);
  if constexpr (std::is_signed_v<C>) {
    if (b == C(-1)) return wrap_neg(a);
    C q = C(a / b);
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  } else {
    return C(a / b);
  }
}
template <typename C>
inline C remainder(C a, C b) {
  if (b == 0) return C(0);
  if constexpr (std::is_signed_v<C>) {
    if (b == C(-1)) return C(0);
    C r = C(a % b);
    if (r != 0 && ((r < 0) != (b < 0))) r = C(r + b);
    return r;
  } else {
    return C(a % b);
  }
}

// a ** b by squaring, wrapping. A negative exponent gives the truncated true value: 1 for a == 1,
// +-1 for a == -1, otherwise 0 (NumPy refuses negative integer powers).
template <typename C>
inline C int_pow(C a, C b) {
  if constexpr (std::is_signed_v<C>) {
    if (b < 0) return a == 1 ? C(1) : a == C(-1) ? C((b & 1) ? -1 : 1) : C(0);
  }
  C r = 1, base = a;
  for (auto e = b; e > 0; e >>= 1) {
    if (e & 1) r = wrap_mul(r, base);
    base = wrap_mul(base, base);
  }
  return r;
}

}  // namespace tessera::cpu
