// compile(): a traced graph replayed on new inputs, with chains of elementwise ops fused into one
// primitive that computes them block by block in L1-resident tiles (one pass over memory).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tessera/primitives.h"
#include "tessera/primitives/elementwise.h"

namespace tessera {

// One step of a fused elementwise program. Operands name values: 0..n_inputs-1 are the fused
// node's inputs, n_inputs + k is the result of step k.
struct FusedStep {
  enum class Kind : uint8_t { Unary, Binary, Cast };
  Kind kind;
  uint8_t op;   // UnaryOp or BinaryOp
  Dtype dtype;  // the step's output dtype: half results are rounded as the unfused op would
  int a = -1, b = -1;
  int slot = -1;  // tile that holds the result (-1: the last step, written to the output)
};

// Several elementwise ops run as one: each block of output elements goes through every step in
// float32 tiles, so intermediates never touch main memory.
class Fused : public Primitive {
 public:
  Fused(std::vector<FusedStep> steps, int n_inputs, int n_slots);
  const char* name() const override { return "Fused"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
  const std::vector<FusedStep>& steps() const { return steps_; }
  int n_inputs() const { return n_inputs_; }
  int n_slots() const { return n_slots_; }
  std::string describe() const;  // e.g. "add>exp>multiply"

 private:
  std::vector<FusedStep> steps_;
  int n_inputs_, n_slots_;
};

// A graph captured from `outputs` back to `inputs` (Placeholder arrays). Nodes that do not depend
// on the inputs are constants, kept as they are. run() builds a fresh graph with the same
// primitives over new inputs of the traced shapes and dtypes.
class CompiledGraph {
 public:
  CompiledGraph(std::vector<Array> inputs, std::vector<Array> outputs, bool fuse = true);
  std::vector<Array> run(const std::vector<Array>& inputs) const;

  struct Info {
    size_t traced_nodes = 0;  // nodes between the inputs and outputs
    size_t steps = 0;         // nodes one run() builds
    size_t fused = 0;         // of which Fused
    size_t fused_ops = 0;     // traced nodes those replace
    size_t constants = 0;
  };
  const Info& info() const { return info_; }
  std::vector<std::string> describe() const;  // one line per step

 private:
  struct Ref {
    enum class Kind : uint8_t { Input, Constant, Step } kind;
    int index;
  };
  struct Step {
    std::shared_ptr<Primitive> prim;
    Shape shape;
    Dtype dtype;
    std::vector<Ref> inputs;
  };
  void build(const std::vector<Array>& order, bool fuse);

  std::vector<Array> inputs_, outputs_;  // the trace: keeps the traced primitives alive
  std::vector<Array> constants_;
  std::vector<Step> steps_;
  std::vector<Ref> output_refs_;
  Info info_;
};

}  // namespace tessera
