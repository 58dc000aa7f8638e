// Exports for weights files: `MappedFile` (mmap a file, zero-copy tensors over it, header bytes).
// Formats are parsed in TypeScript; this side re-checks every range it is given.
#include <cstring>

#include "binding.h"
#include "tessera/io.h"

namespace tessera::binding {

namespace {

uint64_t to_offset(Napi::Value v, const char* what) {
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0) || d > 9007199254740991.0 || d != double(uint64_t(d)))
    throw std::invalid_argument(std::string(what) + " must be a non-negative integer");
  return uint64_t(d);
}

class MappedFileWrap : public Napi::ObjectWrap<MappedFileWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "MappedFile",
                       {InstanceMethod<&MappedFileWrap::size>("size"), InstanceMethod<&MappedFileWrap::path>("path"),
                        InstanceMethod<&MappedFileWrap::tensor>("tensor"), InstanceMethod<&MappedFileWrap::bytes>("bytes"),
                        InstanceMethod<&MappedFileWrap::close>("close")});
  }

  // new MappedFile(path)
  explicit MappedFileWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MappedFileWrap>(info) {
    Napi::Env env = info.Env();
    guard(env, [&]() -> Napi::Value {
      if (!info[0].IsString()) throw std::invalid_argument("MappedFile: path must be a string");
      file_ = MappedFile::open(info[0].As<Napi::String>().Utf8Value());
      return env.Undefined();
    });
  }

 private:
  const std::shared_ptr<MappedFile>& file() const {
    if (!file_) throw std::invalid_argument("the mapped file was closed");
    return file_;
  }

  Napi::Value size(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), double(file()->size())); });
  }
  Napi::Value path(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), file()->path()); });
  }

  // tensor(byteOffset, shape, dtype) -> NativeTensor (a view of the mapping, or a copy if unaligned)
  Napi::Value tensor(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      uint64_t offset = to_offset(info[0], "byte offset");
      Shape shape = to_shape(info[1], "shape");
      if (!info[2].IsString()) throw std::invalid_argument("dtype must be a string");
      Dtype dt = dtype_from_name(info[2].As<Napi::String>().Utf8Value());
      Addon& ad = addon(env);
      Array a = mapped_array(file(), offset, shape, dt, ad.rt.alloc);
      ad.report_memory(env);
      return TensorWrap::wrap(env, std::move(a));
    });
  }

  // bytes(offset, length) -> Buffer (a copy, for headers)
  Napi::Value bytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      uint64_t offset = to_offset(info[0], "byte offset"), length = to_offset(info[1], "length");
      file()->check_range(offset, length, "header bytes");
      auto out = Napi::Buffer<uint8_t>::New(env, size_t(length));
      if (length) std::memcpy(out.Data(), file()->data() + offset, size_t(length));
      return out;
    });
  }

  // Drops this handle's hold on the mapping; tensors made from it keep it alive.
  Napi::Value close(const Napi::CallbackInfo& info) {
    file_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<MappedFile> file_;
};

}  // namespace

void export_io(Napi::Env env, Napi::Object exports) { exports.Set("MappedFile", MappedFileWrap::define(env)); }

}  // namespace tessera::binding
