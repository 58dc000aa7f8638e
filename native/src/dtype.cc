#include "tessera/dtype.h"

#include <stdexcept>

namespace tessera {

size_t itemsize(Dtype dt) {
  switch (dt) {
    case Dtype::Bool: case Dtype::UInt8: case Dtype::Int8: return 1;
    case Dtype::Int16: case Dtype::Float16: case Dtype::BFloat16: return 2;
    case Dtype::Int32: case Dtype::UInt32: case Dtype::Float32: return 4;
    case Dtype::Int64: return 8;
  }
  return 0;
}

const char* dtype_name(Dtype dt) {
  static const char* names[] = {"bool", "uint8", "int8", "int16", "int32", "uint32", "int64", "float16", "bfloat16", "float32"};
  return names[int(dt)];
}

Dtype dtype_from_name(std::string_view name) {
  for (int i = 0; i < kNumDtypes; ++i)
    if (name == dtype_name(Dtype(i))) return Dtype(i);
  throw std::invalid_argument("unknown dtype '" + std::string(name) +
                              "' (expected one of bool, uint8, int8, int16, int32, uint32, int64, float16, bfloat16, float32)");
}

bool is_floating(Dtype dt) { return dt == Dtype::Float16 || dt == Dtype::BFloat16 || dt == Dtype::Float32; }
bool is_integral(Dtype dt) { return !is_floating(dt); }
bool is_signed(Dtype dt) {
  return dt == Dtype::Int8 || dt == Dtype::Int16 || dt == Dtype::Int32 || dt == Dtype::Int64 || is_floating(dt);
}

Dtype promote_types(Dtype a, Dtype b) {
  if (a == b) return a;
  if (a == Dtype::Bool) return b;
  if (b == Dtype::Bool) return a;
  bool fa = is_floating(a), fb = is_floating(b);
  if (fa && fb) return itemsize(a) == itemsize(b) ? Dtype::Float32 : (itemsize(a) > itemsize(b) ? a : b);
  if (fa) return a;
  if (fb) return b;
  // Both integers.
  bool sa = is_signed(a), sb = is_signed(b);
  if (sa == sb) return itemsize(a) >= itemsize(b) ? a : b;
  Dtype s = sa ? a : b, u = sa ? b : a;
  if (itemsize(s) > itemsize(u)) return s;
  // Unsigned at least as wide as signed: next wider signed type.
  switch (itemsize(u)) {
    case 1: return Dtype::Int16;
    case 2: return Dtype::Int32;
    default: return Dtype::Int64;
  }
}

}  // namespace tessera
