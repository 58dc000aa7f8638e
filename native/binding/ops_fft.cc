// Op table entries for FFTs.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_fft_ops(OpTable& t) {
  t["rfft"] = [](const std::vector<Array>& in, const Attrs& a) { return rfft(in.at(0), a.i("n", -1), a.i("axis", -1)); };
  t["irfft"] = [](const std::vector<Array>& in, const Attrs& a) { return irfft(in.at(0), a.i("n", -1), a.i("axis", -2)); };
}

}  // namespace tessera::binding
