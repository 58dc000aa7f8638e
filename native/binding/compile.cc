// Exports for compile(): placeholders to trace with, compiled graphs built from a trace, replay.
#include <mutex>

#include "binding.h"
#include "tessera/compile.h"

namespace tessera::binding {

namespace {

// compilePlaceholder(shape, dtype) -> Tensor that stands for a compiled function's input.
Napi::Value placeholder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Shape shape = to_shape(info[0], "placeholder shape");
    Dtype dt = dtype_from_name(info[1].As<Napi::String>().Utf8Value());
    return TensorWrap::wrap(env, Array(shape, dt, std::make_shared<Placeholder>(), {}));
  });
}

CompiledGraph& unwrap_graph(Napi::Value v) {
  if (!v.IsExternal()) throw std::invalid_argument("expected a compiled graph");
  return *v.As<Napi::External<CompiledGraph>>().Data();
}

// compileBuild(inputs: placeholders, outputs, fuse) -> compiled graph (an external).
Napi::Value build(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto inputs = unwrap_list(info[0], "compile inputs");
    auto outputs = unwrap_list(info[1], "compile outputs");
    bool fuse = info.Length() < 3 || info[2].ToBoolean();
    CompiledGraph* g;
    {
      // Walking the trace reads the inputs of constant nodes, which an eval on a worker may detach.
      std::lock_guard<std::mutex> lock(addon(env).rt.eval_mu);
      g = new CompiledGraph(std::move(inputs), std::move(outputs), fuse);
    }
    return Napi::External<CompiledGraph>::New(env, g, [](Napi::Env, CompiledGraph* p) { delete p; });
  });
}

// compileRun(graph, inputs) -> Tensor[]: a fresh graph over the inputs, nothing evaluated.
Napi::Value run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto outs = unwrap_graph(info[0]).run(unwrap_list(info[1], "compiled function inputs"));
    auto arr = Napi::Array::New(env, outs.size());
    for (size_t i = 0; i < outs.size(); ++i) arr.Set(uint32_t(i), TensorWrap::wrap(env, std::move(outs[i])));
    return arr;
  });
}

// compileInfo(graph) -> { tracedNodes, steps, fused, fusedOps, constants, nodes: string[] }
Napi::Value graph_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    CompiledGraph& g = unwrap_graph(info[0]);
    auto obj = Napi::Object::New(env);
    obj.Set("tracedNodes", double(g.info().traced_nodes));
    obj.Set("steps", double(g.info().steps));
    obj.Set("fused", double(g.info().fused));
    obj.Set("fusedOps", double(g.info().fused_ops));
    obj.Set("constants", double(g.info().constants));
    auto lines = g.describe();
    auto arr = Napi::Array::New(env, lines.size());
    for (size_t i = 0; i < lines.size(); ++i) arr.Set(uint32_t(i), lines[i]);
    obj.Set("nodes", arr);
    return obj;
  });
}

}  // namespace

void export_compile(Napi::Env env, Napi::Object exports) {
  exports.Set("compilePlaceholder", Napi::Function::New(env, placeholder));
  exports.Set("compileBuild", Napi::Function::New(env, build));
  exports.Set("compileRun", Napi::Function::New(env, run));
  exports.Set("compileInfo", Napi::Function::New(env, graph_info));
}

}  // namespace tessera::binding
