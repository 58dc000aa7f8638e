// Op table entries for reductions, softmax, cumsum, sort.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_reduce_ops(OpTable& t) {}

}  // namespace tessera::binding
