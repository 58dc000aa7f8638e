// Capturing a traced graph, planning its fusion, and replaying it on new inputs.
#include "tessera/compile.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace tessera {

Fused::Fused(std::vector<FusedStep> steps, int n_inputs, int n_slots)
    : steps_(std::move(steps)), n_inputs_(n_inputs), n_slots_(n_slots) {}

std::string Fused::describe() const {
  std::string s;
  for (auto& st : steps_) {
    if (!s.empty()) s += ">";
    switch (st.kind) {
      case FusedStep::Kind::Unary: s += unary_op_name(UnaryOp(st.op)); break;
      case FusedStep::Kind::Binary: s += binary_op_name(BinaryOp(st.op)); break;
      case FusedStep::Kind::Cast: s += std::string("astype(") + dtype_name(st.dtype) + ")"; break;
    }
  }
  return s;
}

namespace {

// Elementwise nodes the fuser can run in float32 tiles: float results computed from float values
// (casts may read any dtype: the tile load converts exactly as AsType does).
bool fusible(const Array& a) {
  if (!is_floating(a.dtype())) return false;
  Primitive* p = a.primitive().get();
  if (auto* u = dynamic_cast<Unary*>(p)) return u->op() != UnaryOp::LogicalNot && is_floating(a.inputs()[0].dtype());
  if (auto* b = dynamic_cast<Binary*>(p)) return is_floating(a.inputs()[0].dtype());
  return dynamic_cast<AsType*>(p) != nullptr;
}

FusedStep to_step(const Array& a) {
  Primitive* p = a.primitive().get();
  FusedStep s{};
  s.dtype = a.dtype();
  if (auto* u = dynamic_cast<Unary*>(p)) {
    s.kind = FusedStep::Kind::Unary;
    s.op = uint8_t(u->op());
  } else if (auto* b = dynamic_cast<Binary*>(p)) {
    s.kind = FusedStep::Kind::Binary;
    s.op = uint8_t(b->op());
  } else {
    s.kind = FusedStep::Kind::Cast;
  }
  return s;
}

// The nodes of `members` (indices into `order`, ascending) as one Fused primitive; `externals`
// receives the arrays it reads, in input order.
std::shared_ptr<Fused> make_fused(const std::vector<Array>& order, const std::vector<int>& members,
                                  const std::unordered_map<uint64_t, int>& pos, std::vector<Array>& externals) {
  std::unordered_map<int, int> member_step;  // order index -> step index
  for (size_t k = 0; k < members.size(); ++k) member_step[members[k]] = int(k);
  std::unordered_map<uint64_t, int> ext_index;
  auto operand_of = [&](const Array& x) {
    auto p = pos.find(x.id());
    if (p != pos.end()) {
      auto m = member_step.find(p->second);
      if (m != member_step.end()) return -1 - m->second;  // a step (fixed up below)
    }
    auto [it, fresh] = ext_index.emplace(x.id(), int(externals.size()));
    if (fresh) externals.push_back(x);
    return it->second;
  };
  std::vector<FusedStep> steps;
  for (int m : members) {
    const Array& a = order[m];
    FusedStep s = to_step(a);
    s.a = operand_of(a.inputs()[0]);
    if (s.kind == FusedStep::Kind::Binary) s.b = operand_of(a.inputs()[1]);
    steps.push_back(s);
  }
  const int n_in = int(externals.size());
  auto fix = [&](int& v) {
    if (v < 0) v = n_in + (-1 - v);
  };
  for (auto& s : steps) {
    fix(s.a);
    if (s.kind == FusedStep::Kind::Binary) fix(s.b);
  }
  // Tile slots by liveness: a result may take the slot of an operand that dies at its step
  // (the kernels allow the output to alias an input).
  const int n_steps = int(steps.size());
  std::vector<int> last_use(n_steps, -1);
  for (int k = 0; k < n_steps; ++k) {
    for (int v : {steps[k].a, steps[k].b})
      if (v >= n_in) last_use[v - n_in] = k;
  }
  std::vector<int> free_slots;
  int n_slots = 0;
  for (int k = 0; k < n_steps; ++k) {
    int ops[2] = {steps[k].a, steps[k].b};
    for (int j = 0; j < 2; ++j) {
      int v = ops[j];
      if (v < n_in || last_use[v - n_in] != k || (j == 1 && ops[0] == v)) continue;
      free_slots.push_back(steps[v - n_in].slot);
    }
    if (k == n_steps - 1) break;  // the result goes to the output
    if (free_slots.empty()) {
      steps[k].slot = n_slots++;
    } else {
      steps[k].slot = free_slots.back();
      free_slots.pop_back();
    }
  }
  return std::make_shared<Fused>(std::move(steps), n_in, n_slots);
}

}  // namespace

CompiledGraph::CompiledGraph(std::vector<Array> inputs, std::vector<Array> outputs, bool fuse)
    : inputs_(std::move(inputs)), outputs_(std::move(outputs)) {
  std::unordered_map<uint64_t, int> input_index;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Array& a = inputs_[i];
    if (!a.valid() || a.is_evaluated() || !dynamic_cast<Placeholder*>(a.primitive().get()))
      throw std::invalid_argument("compile: trace inputs must be placeholders");
    input_index.emplace(a.id(), int(i));
  }
  // Post-order from the outputs; a node depends on the inputs if any of its inputs does. Evaluated
  // nodes and nodes that do not depend on the inputs are constants (not walked past).
  std::unordered_map<uint64_t, bool> depends;
  std::vector<Array> order;
  std::vector<std::pair<const Array*, size_t>> stack;
  for (auto& out : outputs_) {
    if (depends.count(out.id())) continue;
    stack.push_back({&out, 0});
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next == 0 && (node->is_evaluated() || input_index.count(node->id()))) {
        depends[node->id()] = !node->is_evaluated();
        stack.pop_back();
        continue;
      }
      const auto& ins = node->inputs();
      if (next < ins.size()) {
        const Array* in = &ins[next++];
        if (!depends.count(in->id())) stack.push_back({in, 0});
        continue;
      }
      bool dep = false;
      for (auto& in : ins) dep = dep || depends.at(in.id());
      depends[node->id()] = dep;
      if (dep) order.push_back(*node);
      stack.pop_back();
    }
  }
  info_.traced_nodes = order.size();
  build(order, fuse);
}

void CompiledGraph::build(const std::vector<Array>& order, bool fuse) {
  const int n = int(order.size());
  std::unordered_map<uint64_t, int> pos;
  for (int i = 0; i < n; ++i) pos.emplace(order[i].id(), i);
  std::vector<std::vector<int>> consumers(n);
  for (int i = 0; i < n; ++i)
    for (auto& in : order[i].inputs()) {
      auto p = pos.find(in.id());
      if (p != pos.end()) consumers[p->second].push_back(i);
    }
  std::vector<bool> is_output(n, false);
  for (auto& o : outputs_) {
    auto p = pos.find(o.id());
    if (p != pos.end()) is_output[p->second] = true;
  }
  // Groups, consumers first: a fusible node joins its consumers' group when they all belong to
  // one group of its shape and it is not an output; otherwise it starts (roots) a group.
  std::vector<int> group(n, -1);
  for (int i = n - 1; fuse && i >= 0; --i) {
    if (!fusible(order[i])) continue;
    int g = -1;
    bool join = !is_output[i] && !consumers[i].empty();
    for (int c : consumers[i]) {
      if (!join) break;
      if (group[c] < 0 || (g >= 0 && group[c] != g)) join = false;
      g = group[c];
    }
    join = join && order[i].shape() == order[g].shape();
    group[i] = join ? g : i;
  }
  std::vector<std::vector<int>> members(n);
  for (int i = 0; i < n; ++i)
    if (group[i] >= 0) members[group[i]].push_back(i);

  std::unordered_map<uint64_t, int> input_index;
  for (size_t i = 0; i < inputs_.size(); ++i) input_index.emplace(inputs_[i].id(), int(i));
  std::vector<int> step_of(n, -1);
  std::unordered_map<uint64_t, int> const_index;
  auto ref = [&](const Array& x) -> Ref {
    auto p = pos.find(x.id());
    if (p != pos.end()) return {Ref::Kind::Step, step_of[p->second]};
    auto in = input_index.find(x.id());
    if (in != input_index.end()) return {Ref::Kind::Input, in->second};
    auto [it, fresh] = const_index.emplace(x.id(), int(constants_.size()));
    if (fresh) constants_.push_back(x);
    return {Ref::Kind::Constant, it->second};
  };
  for (int i = 0; i < n; ++i) {
    const Array& a = order[i];
    if (group[i] >= 0 && group[i] != i) continue;  // emitted with its group's root
    Step s{a.primitive(), a.shape(), a.dtype(), {}};
    if (group[i] == i && members[i].size() > 1) {
      std::vector<Array> externals;
      s.prim = make_fused(order, members[i], pos, externals);
      for (auto& x : externals) s.inputs.push_back(ref(x));
      info_.fused++;
      info_.fused_ops += members[i].size();
    } else {
      for (auto& x : a.inputs()) s.inputs.push_back(ref(x));
    }
    step_of[i] = int(steps_.size());
    steps_.push_back(std::move(s));
  }
  for (auto& o : outputs_) output_refs_.push_back(ref(o));
  info_.steps = steps_.size();
  info_.constants = constants_.size();
}

std::vector<Array> CompiledGraph::run(const std::vector<Array>& inputs) const {
  if (inputs.size() != inputs_.size())
    throw std::invalid_argument("compiled function expects " + std::to_string(inputs_.size()) + " tensor inputs, got " +
                                std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].shape() != inputs_[i].shape() || inputs[i].dtype() != inputs_[i].dtype())
      throw std::invalid_argument("compiled function input " + std::to_string(i) + " was traced as " +
                                  shape_str(inputs_[i].shape()) + " " + dtype_name(inputs_[i].dtype()) + ", got " +
                                  shape_str(inputs[i].shape()) + " " + dtype_name(inputs[i].dtype()));
  }
  std::vector<Array> made;
  made.reserve(steps_.size());
  auto get = [&](const Ref& r) -> const Array& {
    switch (r.kind) {
      case Ref::Kind::Input: return inputs[r.index];
      case Ref::Kind::Constant: return constants_[r.index];
      case Ref::Kind::Step: break;
    }
    return made[r.index];
  };
  for (auto& s : steps_) {
    std::vector<Array> ins;
    ins.reserve(s.inputs.size());
    for (auto& r : s.inputs) ins.push_back(get(r));
    made.emplace_back(s.shape, s.dtype, s.prim, std::move(ins));
  }
  std::vector<Array> outs;
  outs.reserve(output_refs_.size());
  for (auto& r : output_refs_) outs.push_back(get(r));
  return outs;
}

std::vector<std::string> CompiledGraph::describe() const {
  std::vector<std::string> lines;
  for (auto& s : steps_) {
    auto* f = dynamic_cast<Fused*>(s.prim.get());
    lines.push_back(std::string(s.prim->name()) + (f ? "[" + f->describe() + "]" : "") + " " + shape_str(s.shape) + " " +
                    dtype_name(s.dtype));
  }
  return lines;
}

}  // namespace tessera
