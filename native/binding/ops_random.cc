// Op table entries for random numbers.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_random_ops(OpTable& t) {}

}  // namespace tessera::binding
