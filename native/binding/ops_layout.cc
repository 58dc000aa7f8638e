// Op table entries for layout ops.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

namespace {
std::optional<int64_t> optional_axis(const Attrs& a) { return a.has("axis") ? std::optional<int64_t>(a.i("axis")) : std::nullopt; }
}  // namespace

void register_layout_ops(OpTable& t) {
  using In = const std::vector<Array>&;
  t["reshape"] = [](In in, const Attrs& a) { return reshape(in.at(0), a.ints("shape")); };
  t["transpose"] = [](In in, const Attrs& a) { return transpose(in.at(0), a.ints("axes", {})); };
  t["broadcastTo"] = [](In in, const Attrs& a) { return broadcast_to(in.at(0), a.ints("shape")); };
  t["slice"] = [](In in, const Attrs& a) { return slice(in.at(0), a.ints("start"), a.ints("stop"), a.ints("step")); };
  t["copy"] = [](In in, const Attrs&) { return copy(in.at(0)); };
  t["swapaxes"] = [](In in, const Attrs& a) { return swapaxes(in.at(0), a.i("axis1"), a.i("axis2")); };
  t["expandDims"] = [](In in, const Attrs& a) { return expand_dims(in.at(0), a.ints("axes")); };
  t["squeeze"] = [](In in, const Attrs& a) { return a.has("axes") ? squeeze(in.at(0), a.ints("axes")) : squeeze(in.at(0)); };
  t["flatten"] = [](In in, const Attrs& a) { return flatten(in.at(0), a.i("start", 0), a.i("end", -1)); };
  t["concatenate"] = [](In in, const Attrs& a) { return concatenate(in, a.i("axis", 0)); };
  t["stack"] = [](In in, const Attrs& a) { return stack(in, a.i("axis", 0)); };
  t["pad"] = [](In in, const Attrs& a) { return pad(in.at(0), a.ints("widths"), a.f("value", 0)); };
  t["take"] = [](In in, const Attrs& a) { return take(in.at(0), in.at(1), optional_axis(a)); };
  t["takeAlongAxis"] = [](In in, const Attrs& a) { return take_along_axis(in.at(0), in.at(1), a.i("axis")); };
  t["sliceUpdate"] = [](In in, const Attrs& a) {
    return slice_update(in.at(0), in.at(1), a.ints("start"), a.ints("stop"), a.ints("step"));
  };
  t["repeat"] = [](In in, const Attrs& a) { return repeat(in.at(0), a.i("repeats"), optional_axis(a)); };
  t["tile"] = [](In in, const Attrs& a) { return tile(in.at(0), a.ints("reps")); };
}

}  // namespace tessera::binding
