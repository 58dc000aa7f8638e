// Layout primitives: views (no copy) and the general strided copy.
#pragma once
#include "tessera/primitives.h"

namespace tessera {

// out is a view of in[0] with the given strides (relative to in[0]'s element 0, in in[0]'s units
// of its own strides) and offset. Built by reshape/transpose/broadcast/slice.
class Reshape : public Primitive {
 public:
  const char* name() const override { return "Reshape"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

class Transpose : public Primitive {
 public:
  explicit Transpose(std::vector<int> axes) : axes_(std::move(axes)) {}
  const char* name() const override { return "Transpose"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
  const std::vector<int>& axes() const { return axes_; }

 private:
  std::vector<int> axes_;
};

class BroadcastTo : public Primitive {
 public:
  const char* name() const override { return "BroadcastTo"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

class Slice : public Primitive {
 public:
  Slice(std::vector<int64_t> start, std::vector<int64_t> step) : start_(std::move(start)), step_(std::move(step)) {}
  const char* name() const override { return "Slice"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  std::vector<int64_t> start_, step_;
};

class Copy : public Primitive {
 public:
  const char* name() const override { return "Copy"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

}  // namespace tessera
