// Op table entries for matmul and convolutions.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_linalg_ops(OpTable& t) {}

}  // namespace tessera::binding
