// Shared pieces of the binding: the per-addon state, tensor handles, attribute reading, op tables.
#pragma once
#include <napi.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/array.h"
#include "tessera/context.h"

namespace tessera::binding {

// Reads named attributes of an op call from a JS object, with errors that name the op and key.
class Attrs {
 public:
  Attrs(const char* op, Napi::Value v) : op_(op), obj_(v.IsObject() ? v.As<Napi::Object>() : Napi::Object()) {}
  bool has(const char* key) const;
  int64_t i(const char* key) const;
  int64_t i(const char* key, int64_t dflt) const;
  double f(const char* key) const;
  double f(const char* key, double dflt) const;
  bool b(const char* key, bool dflt) const;
  std::string s(const char* key) const;
  std::string s(const char* key, const std::string& dflt) const;
  std::vector<int64_t> ints(const char* key) const;
  std::vector<int64_t> ints(const char* key, std::vector<int64_t> dflt) const;
  std::vector<double> floats(const char* key) const;
  Dtype dtype(const char* key) const;
  Dtype dtype(const char* key, Dtype dflt) const;

 private:
  Napi::Value get(const char* key) const;
  [[noreturn]] void fail(const char* key, const char* expected) const;
  const char* op_;
  Napi::Object obj_;
};

using OpFn = std::function<Array(const std::vector<Array>& inputs, const Attrs& attrs)>;
using OpTable = std::unordered_map<std::string, OpFn>;

// Each op family adds its builders here (one registration function per binding/ops_*.cc file).
void register_elementwise_ops(OpTable& t);
void register_layout_ops(OpTable& t);
void register_creation_ops(OpTable& t);
void register_reduce_ops(OpTable& t);
void register_linalg_ops(OpTable& t);
void register_fast_ops(OpTable& t);
void register_random_ops(OpTable& t);
void register_fft_ops(OpTable& t);
void register_gguf_ops(OpTable& t);
void register_quant_ops(OpTable& t);
// Entry points that are not graph ops (files, compile) add their own exports.
void export_compile(Napi::Env env, Napi::Object exports);
void export_io(Napi::Env env, Napi::Object exports);

struct Addon {
  Runtime rt;
  OpTable ops;
  Napi::FunctionReference tensor_ctor;
  int64_t reported_bytes = 0;  // native bytes last reported to V8
  void report_memory(Napi::Env env);
};

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function define(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, Array a);
  static Array& unwrap(Napi::Value v, const char* what = "tensor");
  explicit TensorWrap(const Napi::CallbackInfo& info);
  Array array;

 private:
  Napi::Value shape(const Napi::CallbackInfo& info);
  Napi::Value dtype(const Napi::CallbackInfo& info);
  Napi::Value evaluated(const Napi::CallbackInfo& info);
  Napi::Value read(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);
  Napi::Value id(const Napi::CallbackInfo& info);
};

Addon& addon(Napi::Env env);
std::vector<Array> unwrap_list(Napi::Value v, const char* what);
Shape to_shape(Napi::Value v, const char* what);
// Runs fn, turning C++ exceptions into JS Errors.
template <typename F>
Napi::Value guard(Napi::Env env, F&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace tessera::binding
