#include "binding.h"

#include <stdexcept>

namespace tessera::binding {

Napi::Value Attrs::get(const char* key) const {
  if (obj_.IsEmpty()) return Napi::Value();
  Napi::Value v = obj_.Get(key);
  return v.IsUndefined() || v.IsNull() ? Napi::Value() : v;
}
bool Attrs::has(const char* key) const { return !get(key).IsEmpty(); }

void Attrs::fail(const char* key, const char* expected) const {
  throw std::invalid_argument(std::string(op_) + ": attribute '" + key + "' " + expected);
}

int64_t Attrs::i(const char* key) const {
  Napi::Value v = get(key);
  if (v.IsEmpty()) fail(key, "is required");
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  if (!v.IsNumber()) fail(key, "must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != double(int64_t(d))) fail(key, "must be an integer");
  return int64_t(d);
}
int64_t Attrs::i(const char* key, int64_t dflt) const { return has(key) ? i(key) : dflt; }

double Attrs::f(const char* key) const {
  Napi::Value v = get(key);
  if (v.IsEmpty()) fail(key, "is required");
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1.0 : 0.0;
  if (!v.IsNumber()) fail(key, "must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
double Attrs::f(const char* key, double dflt) const { return has(key) ? f(key) : dflt; }

bool Attrs::b(const char* key, bool dflt) const {
  Napi::Value v = get(key);
  if (v.IsEmpty()) return dflt;
  if (!v.IsBoolean()) fail(key, "must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string Attrs::s(const char* key) const {
  Napi::Value v = get(key);
  if (v.IsEmpty()) fail(key, "is required");
  if (!v.IsString()) fail(key, "must be a string");
  return v.As<Napi::String>().Utf8Value();
}
std::string Attrs::s(const char* key, const std::string& dflt) const { return has(key) ? s(key) : dflt; }

std::vector<int64_t> Attrs::ints(const char* key) const {
  Napi::Value v = get(key);
  if (v.IsEmpty()) fail(key, "is required");
  if (v.IsNumber()) return {i(key)};
  if (!v.IsArray()) fail(key, "must be an integer or an array of integers");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value e = arr.Get(k);
    if (!e.IsNumber()) fail(key, "must be an array of integers");
    double d = e.As<Napi::Number>().DoubleValue();
    if (d != double(int64_t(d))) fail(key, "must be an array of integers");
    out[k] = int64_t(d);
  }
  return out;
}
std::vector<int64_t> Attrs::ints(const char* key, std::vector<int64_t> dflt) const {
  return has(key) ? ints(key) : dflt;
}

std::vector<double> Attrs::floats(const char* key) const {
  Napi::Value v = get(key);
  if (v.IsEmpty()) fail(key, "is required");
  if (v.IsNumber()) return {v.As<Napi::Number>().DoubleValue()};
  // A Float64Array / Float32Array is copied at once (a precomputed table, e.g. rope's inverse frequencies).
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    if (ta.TypedArrayType() == napi_float64_array) {
      auto f = v.As<Napi::Float64Array>();
      return std::vector<double>(f.Data(), f.Data() + f.ElementLength());
    }
    if (ta.TypedArrayType() == napi_float32_array) {
      auto f = v.As<Napi::Float32Array>();
      return std::vector<double>(f.Data(), f.Data() + f.ElementLength());
    }
    fail(key, "must be a Float64Array, Float32Array or an array of numbers");
  }
  if (!v.IsArray()) fail(key, "must be a number or an array of numbers");
  auto arr = v.As<Napi::Array>();
  std::vector<double> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value e = arr.Get(k);
    if (!e.IsNumber()) fail(key, "must be an array of numbers");
    out[k] = e.As<Napi::Number>().DoubleValue();
  }
  return out;
}

Dtype Attrs::dtype(const char* key) const { return dtype_from_name(s(key)); }
Dtype Attrs::dtype(const char* key, Dtype dflt) const { return has(key) ? dtype(key) : dflt; }

}  // namespace tessera::binding
