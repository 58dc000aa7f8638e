#include "tessera/scheduler.h"

#include <unordered_set>

#include "tessera/primitives.h"

namespace tessera {

namespace {

// Post-order over the unevaluated part of the graph. Raw pointers are safe: every listed node is
// reachable from `outputs` through nodes that are not yet evaluated, which keep their inputs.
std::vector<Array*> topo_order(const std::vector<Array>& outputs) {
  std::vector<Array*> order;
  std::unordered_set<uint64_t> seen;
  std::vector<std::pair<Array*, size_t>> stack;
  for (auto& out : outputs) {
    auto* root = const_cast<Array*>(&out);
    if (root->is_evaluated() || !seen.insert(root->id()).second) continue;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      auto& inputs = node->inputs();
      if (next < inputs.size()) {
        Array* in = const_cast<Array*>(&inputs[next++]);
        if (!in->is_evaluated() && seen.insert(in->id()).second) stack.push_back({in, 0});
      } else {
        order.push_back(node);
        stack.pop_back();
      }
    }
  }
  return order;
}

}  // namespace

void eval(const std::vector<Array>& outputs, Runtime& rt) {
  std::lock_guard<std::mutex> lock(rt.eval_mu);
  Context ctx = rt.context();
  for (Array* node : topo_order(outputs)) {
    if (node->is_evaluated()) continue;  // the same node reached through two handles
    if (!node->has_primitive()) throw std::runtime_error("array has neither data nor a primitive");
    node->primitive()->eval_cpu(node->inputs(), *node, ctx);
    node->finish_eval();
  }
}

}  // namespace tessera
