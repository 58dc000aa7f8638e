// Op table entries for creation ops (arange, linspace, eye, tri).
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_creation_ops(OpTable& t) {}

}  // namespace tessera::binding
