// Op table entries for reductions, softmax, cumsum, sort.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

namespace {

OptAxes axes_attr(const Attrs& a) { return a.has("axis") ? OptAxes(a.ints("axis")) : std::nullopt; }
std::optional<int64_t> axis_attr(const Attrs& a) {
  return a.has("axis") ? std::optional<int64_t>(a.i("axis")) : std::nullopt;
}

}  // namespace

void register_reduce_ops(OpTable& t) {
  using Fn = Array (*)(const Array&, const OptAxes&, bool);
  const std::pair<const char*, Fn> reductions[] = {
      {"sum", &sum}, {"prod", &prod}, {"max", &max}, {"min", &min}, {"mean", &mean}, {"logsumexp", &logsumexp}};
  for (auto [name, fn] : reductions)
    t[name] = [fn](const std::vector<Array>& in, const Attrs& a) { return fn(in.at(0), axes_attr(a), a.b("keepdims", false)); };
  t["var"] = [](const std::vector<Array>& in, const Attrs& a) {
    return var(in.at(0), axes_attr(a), a.b("keepdims", false), a.i("ddof", 0));
  };
  t["argmax"] = [](const std::vector<Array>& in, const Attrs& a) { return argmax(in.at(0), axis_attr(a), a.b("keepdims", false)); };
  t["argmin"] = [](const std::vector<Array>& in, const Attrs& a) { return argmin(in.at(0), axis_attr(a), a.b("keepdims", false)); };
  t["softmax"] = [](const std::vector<Array>& in, const Attrs& a) { return softmax(in.at(0), a.ints("axis", {-1})); };
  t["cumsum"] = [](const std::vector<Array>& in, const Attrs& a) {
    return cumsum(in.at(0), axis_attr(a), a.b("reverse", false), a.b("inclusive", true));
  };
  t["sort"] = [](const std::vector<Array>& in, const Attrs& a) { return sort(in.at(0), a.i("axis", -1)); };
  t["argsort"] = [](const std::vector<Array>& in, const Attrs& a) { return argsort(in.at(0), a.i("axis", -1)); };
  t["topk"] = [](const std::vector<Array>& in, const Attrs& a) { return topk(in.at(0), a.i("k"), a.i("axis", -1)); };
  t["argpartition"] = [](const std::vector<Array>& in, const Attrs& a) {
    return argpartition(in.at(0), a.i("kth"), a.i("axis", -1));
  };
}

}  // namespace tessera::binding
