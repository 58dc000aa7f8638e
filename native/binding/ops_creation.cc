// Op table entries for creation ops (arange, linspace, eye, tri).
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_creation_ops(OpTable& t) {
  t["arange"] = [](const std::vector<Array>&, const Attrs& a) {
    return arange(a.f("start"), a.f("stop"), a.f("step"), a.dtype("dtype"));
  };
  t["linspace"] = [](const std::vector<Array>&, const Attrs& a) {
    return linspace(a.f("start"), a.f("stop"), a.i("num"), a.dtype("dtype", Dtype::Float32));
  };
  t["eye"] = [](const std::vector<Array>&, const Attrs& a) {
    return eye(a.i("n"), a.i("m"), a.i("k", 0), a.dtype("dtype", Dtype::Float32));
  };
  t["tri"] = [](const std::vector<Array>&, const Attrs& a) {
    return tri(a.i("n"), a.i("m"), a.i("k", 0), a.dtype("dtype", Dtype::Float32));
  };
}

}  // namespace tessera::binding
