// Exports for compile(): traced graphs replayed and fused.
#include "binding.h"

namespace tessera::binding {

void export_compile(Napi::Env env, Napi::Object exports) {}

}  // namespace tessera::binding
