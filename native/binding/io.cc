// Exports for weights files (safetensors, GGUF, npz, ggml).
#include "binding.h"

namespace tessera::binding {

void export_io(Napi::Env env, Napi::Object exports) {}

}  // namespace tessera::binding
