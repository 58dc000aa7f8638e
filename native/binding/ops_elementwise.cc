// Op table entries for elementwise ops.
#include "binding.h"
#include "tessera/ops.h"

namespace tessera::binding {

void register_elementwise_ops(OpTable& t) {
  for (int i = 0; i <= int(UnaryOp::LogicalNot); ++i) {
    UnaryOp op = UnaryOp(i);
    t[unary_op_name(op)] = [op](const std::vector<Array>& in, const Attrs&) { return unary(op, in.at(0)); };
  }
  for (int i = 0; i <= int(BinaryOp::LogicalOr); ++i) {
    BinaryOp op = BinaryOp(i);
    t[binary_op_name(op)] = [op](const std::vector<Array>& in, const Attrs&) { return binary(op, in.at(0), in.at(1)); };
  }
  t["where"] = [](const std::vector<Array>& in, const Attrs&) { return where(in.at(0), in.at(1), in.at(2)); };
  t["astype"] = [](const std::vector<Array>& in, const Attrs& a) { return astype(in.at(0), a.dtype("dtype")); };
  t["full"] = [](const std::vector<Array>&, const Attrs& a) {
    return full(a.ints("shape"), a.f("value"), a.dtype("dtype", Dtype::Float32));
  };
  t["clip"] = [](const std::vector<Array>& in, const Attrs&) { return clip(in.at(0), in.at(1), in.at(2)); };
}

}  // namespace tessera::binding
