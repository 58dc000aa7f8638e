// The JS handle of an Array: shape, dtype, reading data back, dispose.
#include <cstring>

#include "binding.h"
#include "tessera/ops.h"
#include "tessera/scheduler.h"

namespace tessera::binding {

Napi::Function TensorWrap::define(Napi::Env env) {
  return DefineClass(env, "NativeTensor",
                     {InstanceMethod<&TensorWrap::shape>("shape"), InstanceMethod<&TensorWrap::dtype>("dtype"),
                      InstanceMethod<&TensorWrap::evaluated>("evaluated"), InstanceMethod<&TensorWrap::read>("read"),
                      InstanceMethod<&TensorWrap::dispose>("dispose"), InstanceMethod<&TensorWrap::disposed>("disposed"),
                      InstanceMethod<&TensorWrap::id>("id")});
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {}

Napi::Object TensorWrap::wrap(Napi::Env env, Array a) {
  Napi::Object obj = addon(env).tensor_ctor.New({});
  Unwrap(obj)->array = std::move(a);
  return obj;
}

Array& TensorWrap::unwrap(Napi::Value v, const char* what) {
  if (!v.IsObject()) throw std::invalid_argument(std::string(what) + " must be a Tensor");
  Napi::Object obj = v.As<Napi::Object>();
  if (!obj.InstanceOf(addon(v.Env()).tensor_ctor.Value())) throw std::invalid_argument(std::string(what) + " must be a Tensor");
  TensorWrap* w = Unwrap(obj);
  if (!w->array.valid()) throw std::invalid_argument(std::string(what) + " was disposed and cannot be used");
  return w->array;
}

Napi::Value TensorWrap::shape(const Napi::CallbackInfo& info) {
  const Shape& s = array.shape();
  auto arr = Napi::Array::New(info.Env(), s.size());
  for (size_t i = 0; i < s.size(); ++i) arr.Set(uint32_t(i), Napi::Number::New(info.Env(), double(s[i])));
  return arr;
}

Napi::Value TensorWrap::dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dtype_name(array.dtype()));
}

Napi::Value TensorWrap::evaluated(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), array.valid() && array.is_evaluated());
}

// Copies the (evaluated) data into a new ArrayBuffer, row-major. Halves come back as float32
// unless read(true) asks for their raw 16-bit patterns.
Napi::Value TensorWrap::read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    if (!array.valid()) throw std::invalid_argument("cannot read a disposed tensor");
    bool raw = info.Length() > 0 && info[0].ToBoolean();
    Addon& ad = addon(env);
    Array src = array;
    if (!raw && (src.dtype() == Dtype::Float16 || src.dtype() == Dtype::BFloat16)) src = astype(src, Dtype::Float32);
    if (!src.is_evaluated()) eval({src}, ad.rt);
    if (!src.row_contiguous()) {
      src = copy(src);
      eval({src}, ad.rt);
    }
    ad.report_memory(env);
    auto buf = Napi::ArrayBuffer::New(env, src.nbytes());
    if (src.nbytes()) std::memcpy(buf.Data(), src.raw_data(), src.nbytes());
    return buf;
  });
}

Napi::Value TensorWrap::dispose(const Napi::CallbackInfo& info) {
  array = Array();
  addon(info.Env()).report_memory(info.Env());
  return info.Env().Undefined();
}

Napi::Value TensorWrap::disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !array.valid()); }

Napi::Value TensorWrap::id(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(array.valid() ? array.id() : 0));
}

}  // namespace tessera::binding
