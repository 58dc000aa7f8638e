// Op table entries for GGUF block dequantization.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_gguf_ops(OpTable& t) {
  t["ggufDequantize"] = [](const std::vector<Array>& in, const Attrs& a) {
    int64_t type = a.i("type");
    if (type < 0 || type > 0xffff) throw std::invalid_argument("ggufDequantize: attribute 'type' is not a ggml type id");
    return gguf_dequantize(in.at(0), uint32_t(type), a.dtype("dtype", Dtype::Float32));
  };
}

}  // namespace tessera::binding
