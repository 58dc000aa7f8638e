// Op table entries for random numbers.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_random_ops(OpTable& t) {
  t["randomThreefry"] = [](const std::vector<Array>& in, const Attrs&) { return threefry2x32(in.at(0), in.at(1)); };
  t["randomBits"] = [](const std::vector<Array>& in, const Attrs& a) { return random_bits(a.ints("shape"), in.at(0)); };
  t["randomUniform"] = [](const std::vector<Array>& in, const Attrs& a) {
    return random_uniform(a.ints("shape"), a.f("low", 0.0), a.f("high", 1.0), a.dtype("dtype", Dtype::Float32), in.at(0));
  };
  t["randomNormal"] = [](const std::vector<Array>& in, const Attrs& a) {
    return random_normal(a.ints("shape"), a.f("loc", 0.0), a.f("scale", 1.0), a.dtype("dtype", Dtype::Float32), in.at(0));
  };
  t["randomCategorical"] = [](const std::vector<Array>& in, const Attrs& a) {
    return random_categorical(in.at(0), a.i("axis", -1), a.i("numSamples", -1), in.at(1));
  };
}

}  // namespace tessera::binding
