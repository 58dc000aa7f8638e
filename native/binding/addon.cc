// Module entry: op dispatch by name, data in and out, evaluation (async on the libuv pool), memory.
#include <cstring>

#include "binding.h"
#include "tessera/isa.h"
#include "tessera/scheduler.h"

namespace tessera::binding {

Addon& addon(Napi::Env env) { return *env.GetInstanceData<Addon>(); }

void Addon::report_memory(Napi::Env env) {
  int64_t now = int64_t(rt.alloc->stats().active);
  if (now != reported_bytes) {
    Napi::MemoryManagement::AdjustExternalMemory(env, now - reported_bytes);
    reported_bytes = now;
  }
}

std::vector<Array> unwrap_list(Napi::Value v, const char* what) {
  if (!v.IsArray()) throw std::invalid_argument(std::string(what) + " must be an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<Array> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(TensorWrap::unwrap(arr.Get(i), what));
  return out;
}

Shape to_shape(Napi::Value v, const char* what) {
  if (!v.IsArray()) throw std::invalid_argument(std::string(what) + " must be an array of non-negative integers");
  auto arr = v.As<Napi::Array>();
  Shape s(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value e = arr.Get(i);
    double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0) || d != double(int64_t(d)))
      throw std::invalid_argument(std::string(what) + " must contain non-negative integers (got " + e.ToString().Utf8Value() + ")");
    s[i] = int64_t(d);
  }
  return s;
}

namespace {

// op(name, inputs, attrs) -> Tensor
Napi::Value op(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    Addon& ad = addon(env);
    auto it = ad.ops.find(name);
    if (it == ad.ops.end()) throw std::invalid_argument("unknown op '" + name + "'");
    std::vector<Array> inputs = unwrap_list(info[1], (name + " inputs").c_str());
    Attrs attrs(name.c_str(), info[2]);
    return TensorWrap::wrap(env, it->second(inputs, attrs));
  });
}

// fromBytes(view: ArrayBufferView, shape, dtype) -> Tensor (copies)
Napi::Value from_bytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray() && !info[0].IsDataView() && !info[0].IsBuffer())
      throw std::invalid_argument("tensor data must be a TypedArray or Buffer");
    auto view = info[0].As<Napi::TypedArray>();
    Shape shape = to_shape(info[1], "shape");
    Dtype dt = dtype_from_name(info[2].As<Napi::String>().Utf8Value());
    size_t need = size_t(shape_size(shape)) * itemsize(dt);
    size_t have = view.ByteLength();
    if (have != need)
      throw std::invalid_argument("data has " + std::to_string(have) + " bytes but shape " + shape_str(shape) + " of " +
                                  dtype_name(dt) + " needs " + std::to_string(need));
    Addon& ad = addon(env);
    auto buf = std::make_shared<Buffer>(ad.rt.alloc, need);
    const char* src = static_cast<const char*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    if (need) std::memcpy(buf->ptr(), src, need);
    ad.report_memory(env);
    return TensorWrap::wrap(env, Array(shape, dt, buf));
  });
}

class EvalWorker : public Napi::AsyncWorker {
 public:
  EvalWorker(Napi::Env env, std::vector<Array> arrays)
      : Napi::AsyncWorker(env, "tessera.eval"), deferred_(Napi::Promise::Deferred::New(env)), arrays_(std::move(arrays)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      eval(arrays_, addon(Env()).rt);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    arrays_.clear();
    addon(Env()).report_memory(Env());
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    arrays_.clear();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Array> arrays_;
};

Napi::Value eval_async(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto* w = new EvalWorker(env, unwrap_list(info[0], "eval arguments"));
    auto p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value eval_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    eval(unwrap_list(info[0], "evalSync arguments"), addon(env).rt);
    addon(env).report_memory(env);
    return env.Undefined();
  });
}

Napi::Value memory_stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto s = addon(env).rt.alloc->stats();
  auto obj = Napi::Object::New(env);
  obj.Set("active", double(s.active));
  obj.Set("peak", double(s.peak));
  obj.Set("cache", double(s.cache));
  obj.Set("limit", double(addon(env).rt.alloc->limit()));
  return obj;
}

Napi::Value memory_control(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    std::string what = info[0].As<Napi::String>().Utf8Value();
    auto& alloc = *addon(env).rt.alloc;
    double v = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
    if (what == "clearCache") alloc.clear_cache();
    else if (what == "resetPeak") alloc.reset_peak();
    else if (what == "setLimit") alloc.set_limit(size_t(v));
    else if (what == "setCacheLimit") alloc.set_cache_limit(size_t(v));
    else throw std::invalid_argument("unknown memory control '" + what + "'");
    return env.Undefined();
  });
}

Napi::Value threads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& pool = addon(env).rt.pool;
  if (info.Length() > 0 && info[0].IsNumber()) {
    int n = info[0].As<Napi::Number>().Int32Value();
    if (n < 1 || n > 1024) throw Napi::RangeError::New(env, "thread count must be between 1 and 1024");
    pool.resize(n);
  }
  return Napi::Number::New(env, pool.size());
}

// isa(level?: string) -> the runtime's ISA level (set first when given; an unknown name or a level the
// CPU lacks throws). The next eval uses it.
Napi::Value isa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto& rt = addon(env).rt;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      if (!info[0].IsString()) throw std::invalid_argument("ISA level must be a string");
      rt.set_isa(isa_from_name(info[0].As<Napi::String>().Utf8Value()));
    }
    return Napi::String::New(env, isa_name(rt.isa()));
  });
}

// isaLevels() -> the levels this CPU supports, lowest first.
Napi::Value isa_levels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto levels = supported_isa_levels();
  auto arr = Napi::Array::New(env, levels.size());
  for (uint32_t i = 0; i < levels.size(); ++i) arr.Set(i, isa_name(levels[i]));
  return arr;
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto* ad = new Addon();
  env.SetInstanceData<Addon>(ad);
  register_elementwise_ops(ad->ops);
  register_layout_ops(ad->ops);
  register_creation_ops(ad->ops);
  register_reduce_ops(ad->ops);
  register_linalg_ops(ad->ops);
  register_fast_ops(ad->ops);
  register_random_ops(ad->ops);
  register_fft_ops(ad->ops);
  register_gguf_ops(ad->ops);
  register_quant_ops(ad->ops);
  Napi::Function ctor = TensorWrap::define(env);
  ad->tensor_ctor = Napi::Persistent(ctor);
  exports.Set("NativeTensor", ctor);
  exports.Set("op", Napi::Function::New(env, op));
  exports.Set("fromBytes", Napi::Function::New(env, from_bytes));
  exports.Set("eval", Napi::Function::New(env, eval_async));
  exports.Set("evalSync", Napi::Function::New(env, eval_sync));
  exports.Set("memoryStats", Napi::Function::New(env, memory_stats));
  exports.Set("memoryControl", Napi::Function::New(env, memory_control));
  exports.Set("threads", Napi::Function::New(env, threads));
  exports.Set("isa", Napi::Function::New(env, isa));
  exports.Set("isaLevels", Napi::Function::New(env, isa_levels));
  export_compile(env, exports);
  export_io(env, exports);
  auto names = Napi::Array::New(env);
  uint32_t i = 0;
  for (auto& [name, fn] : ad->ops) names.Set(i++, name);
  exports.Set("opNames", names);
  return exports;
}

}  // namespace

}  // namespace tessera::binding

static Napi::Object tessera_init(Napi::Env env, Napi::Object exports) { return tessera::binding::init(env, exports); }
NODE_API_MODULE(tessera, tessera_init)
