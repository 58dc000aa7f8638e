// Op table entries for affine quantization and the quantized matmuls.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

namespace {

QuantPart part_of(const std::string& s) {
  if (s == "weight") return QuantPart::Weight;
  if (s == "scales") return QuantPart::Scales;
  if (s == "biases") return QuantPart::Biases;
  throw std::invalid_argument("affineQuantize: attribute 'part' must be weight, scales or biases, got '" + s + "'");
}

}  // namespace

void register_quant_ops(OpTable& t) {
  t["affineQuantize"] = [](const std::vector<Array>& in, const Attrs& a) {
    return affine_quantize(in.at(0), int(a.i("groupSize", 64)), int(a.i("bits", 4)), part_of(a.s("part")));
  };
  t["affineDequantize"] = [](const std::vector<Array>& in, const Attrs& a) {
    return affine_dequantize(in.at(0), in.at(1), in.at(2), int(a.i("groupSize", 64)), int(a.i("bits", 4)));
  };
  t["quantizedMatmul"] = [](const std::vector<Array>& in, const Attrs& a) {
    return quantized_matmul(in.at(0), in.at(1), in.at(2), in.at(3), a.b("transpose", true), int(a.i("groupSize", 64)),
                            int(a.i("bits", 4)));
  };
  t["ggufMatmul"] = [](const std::vector<Array>& in, const Attrs& a) {
    int64_t type = a.i("type");
    if (type < 0 || type > 0xffff) throw std::invalid_argument("ggufMatmul: attribute 'type' is not a ggml type id");
    return gguf_matmul(in.at(0), in.at(1), uint32_t(type));
  };
}

}  // namespace tessera::binding
