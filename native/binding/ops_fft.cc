// Op table entries for FFTs.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_fft_ops(OpTable& t) {}

}  // namespace tessera::binding
