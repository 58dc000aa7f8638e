// Op table entries for fused fast ops.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_fast_ops(OpTable& t) {}

}  // namespace tessera::binding
