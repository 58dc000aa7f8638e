// Op table entries for matmul, convolutions, pooling and upsampling.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

namespace {

ConvOptions conv_options(const Attrs& a) {
  ConvOptions o;
  o.stride = a.ints("stride", {1});
  o.padding = a.ints("padding", {0});
  o.dilation = a.ints("dilation", {1});
  o.groups = a.i("groups", 1);
  return o;
}

}  // namespace

void register_linalg_ops(OpTable& t) {
  t["matmul"] = [](const std::vector<Array>& in, const Attrs&) { return matmul(in.at(0), in.at(1)); };
  t["conv1d"] = [](const std::vector<Array>& in, const Attrs& a) { return conv1d(in.at(0), in.at(1), conv_options(a)); };
  t["conv2d"] = [](const std::vector<Array>& in, const Attrs& a) { return conv2d(in.at(0), in.at(1), conv_options(a)); };
  t["avgPool2d"] = [](const std::vector<Array>& in, const Attrs& a) {
    return avg_pool2d(in.at(0), a.ints("kernel"), a.ints("stride", {}), a.ints("padding", {0}));
  };
  t["upsampleNearest"] = [](const std::vector<Array>& in, const Attrs& a) {
    return upsample_nearest(in.at(0), a.ints("scale"));
  };
  t["_benchFmaPeak"] = [](const std::vector<Array>&, const Attrs& a) { return bench_fma_peak(a.i("iterations")); };
}

}  // namespace tessera::binding
