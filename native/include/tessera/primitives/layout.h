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

// Joins its inputs (same dtype, same shape but along `axis`) along `axis`.
class Concatenate : public Primitive {
 public:
  explicit Concatenate(int axis) : axis_(axis) {}
  const char* name() const override { return "Concatenate"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int axis_;
};

// Constant padding; widths_ holds [before, after] per axis.
class Pad : public Primitive {
 public:
  Pad(std::vector<int64_t> widths, double value) : widths_(std::move(widths)), value_(value) {}
  const char* name() const override { return "Pad"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  std::vector<int64_t> widths_;
  double value_;
};

// out[..., i, ...] = a[..., idx[..., i, ...], ...] along `axis`. Inputs: a and idx, both of the
// output's ndim and broadcastable to it except a along `axis` (its gathered dimension).
// Serves take (a reshaped so idx's dims line up) and take_along_axis.
class Gather : public Primitive {
 public:
  Gather(int axis, const char* op) : axis_(axis), op_(op) {}  // op: the public name, for errors
  const char* name() const override { return "Gather"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int axis_;
  const char* op_;
};

// Each element of in[0] repeated `repeats` times along `axis` (blocks of the trailing dims copied
// whole, single elements filled).
class Repeat : public Primitive {
 public:
  Repeat(int axis, int64_t repeats) : axis_(axis), repeats_(repeats) {}
  const char* name() const override { return "Repeat"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int axis_;
  int64_t repeats_;
};

// Inputs: a and update (already of the region's shape, possibly a broadcast view, a's dtype).
// The output is `a` with the strided region start_/step_ replaced; a's buffer is reused in place
// when nothing else holds `a` (Array::is_donatable).
class SliceUpdate : public Primitive {
 public:
  SliceUpdate(std::vector<int64_t> start, std::vector<int64_t> step) : start_(std::move(start)), step_(std::move(step)) {}
  const char* name() const override { return "SliceUpdate"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  std::vector<int64_t> start_, step_;
};

}  // namespace tessera
