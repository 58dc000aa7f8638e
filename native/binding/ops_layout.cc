// Op table entries for layout ops.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_layout_ops(OpTable& t) {
  t["reshape"] = [](const std::vector<Array>& in, const Attrs& a) { return reshape(in.at(0), a.ints("shape")); };
  t["transpose"] = [](const std::vector<Array>& in, const Attrs& a) { return transpose(in.at(0), a.ints("axes", {})); };
  t["broadcastTo"] = [](const std::vector<Array>& in, const Attrs& a) { return broadcast_to(in.at(0), a.ints("shape")); };
  t["slice"] = [](const std::vector<Array>& in, const Attrs& a) {
    return slice(in.at(0), a.ints("start"), a.ints("stop"), a.ints("step"));
  };
  t["copy"] = [](const std::vector<Array>& in, const Attrs&) { return copy(in.at(0)); };
}

}  // namespace tessera::binding
