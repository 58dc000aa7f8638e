// Op table entries for fused fast ops. Optional inputs follow the required ones in a fixed order;
// attributes say which are present.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

namespace {

// The optional inputs named by boolean attributes, in order, starting at in[first].
std::vector<std::optional<Array>> optionals(const std::vector<Array>& in, size_t first, const Attrs& a,
                                            std::initializer_list<const char*> flags) {
  std::vector<std::optional<Array>> out;
  size_t next = first;
  for (const char* f : flags) {
    if (a.b(f, false)) out.emplace_back(in.at(next++));
    else out.emplace_back(std::nullopt);
  }
  return out;
}

}  // namespace

void register_fast_ops(OpTable& t) {
  // inputs q, k, v [, mask]; attrs scale, causal, hasMask
  t["scaledDotProductAttention"] = [](const std::vector<Array>& in, const Attrs& a) {
    auto o = optionals(in, 3, a, {"hasMask"});
    return scaled_dot_product_attention(in.at(0), in.at(1), in.at(2), a.f("scale"), a.b("causal", false), o[0]);
  };
  t["attentionWeights"] = [](const std::vector<Array>& in, const Attrs& a) {
    auto o = optionals(in, 2, a, {"hasMask"});
    return attention_weights(in.at(0), in.at(1), a.f("scale"), a.b("causal", false), o[0]);
  };
  t["attentionApply"] = [](const std::vector<Array>& in, const Attrs&) { return attention_apply(in.at(0), in.at(1)); };
  t["rmsNorm"] = [](const std::vector<Array>& in, const Attrs& a) {
    return rms_norm(in.at(0), optionals(in, 1, a, {"hasWeight"})[0], a.f("eps"));
  };
  t["layerNorm"] = [](const std::vector<Array>& in, const Attrs& a) {
    auto o = optionals(in, 1, a, {"hasWeight", "hasBias"});
    return layer_norm(in.at(0), o[0], o[1], a.f("eps"));
  };
  t["groupNorm"] = [](const std::vector<Array>& in, const Attrs& a) {
    auto o = optionals(in, 1, a, {"hasWeight", "hasBias"});
    return group_norm(in.at(0), a.i("groups"), o[0], o[1], a.f("eps"));
  };
  // inputs x [, freqs]; attrs dims, traditional, base, scale, offset, mscale, invFreq?, hasFreqs
  t["rope"] = [](const std::vector<Array>& in, const Attrs& a) {
    RopeOptions o;
    o.traditional = a.b("traditional", false);
    o.base = a.f("base", 10000.0);
    o.scale = a.f("scale", 1.0);
    o.offset = a.i("offset", 0);
    o.mscale = a.f("mscale", 1.0);
    if (a.has("invFreq"))
      for (double f : a.floats("invFreq")) o.inv_freq.push_back(float(f));
    o.freqs = optionals(in, 1, a, {"hasFreqs"})[0];
    return rope(in.at(0), a.i("dims"), o);
  };
}

}  // namespace tessera::binding
