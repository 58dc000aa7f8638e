// Reduction, scan and sort primitives. Reductions output the keepdims shape (reduced axes of size 1);
// the op builder reshapes the result away when keepdims is false (a view of the row-major output).
#pragma once
#include <cstdint>
#include <vector>

#include "tessera/primitives.h"

namespace tessera {

enum class ReduceOp { Sum, Prod, Max, Min, Mean, Var, ArgMax, ArgMin, LogSumExp };
const char* reduce_op_name(ReduceOp op);

// Output dtype per op: Sum/Prod of bool and small ints give int32 (int64, uint32 keep theirs);
// Mean, Var and LogSumExp of ints give float32 (Var divides by n - ddof); ArgMax/ArgMin give int32; floats keep their dtype.
class Reduce : public Primitive {
 public:
  Reduce(ReduceOp op, std::vector<int> axes, int64_t ddof = 0) : op_(op), axes_(std::move(axes)), ddof_(ddof) {}
  const char* name() const override { return reduce_op_name(op_); }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
  ReduceOp op() const { return op_; }
  const std::vector<int>& axes() const { return axes_; }  // sorted, unique

 private:
  ReduceOp op_;
  std::vector<int> axes_;
  int64_t ddof_;
};

// Softmax over the last axis (other axes are composed by the op builder). Floating dtypes only.
class Softmax : public Primitive {
 public:
  const char* name() const override { return "Softmax"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

// Cumulative sum along one axis; the output dtype equals the input's (the builder casts bool).
class Cumsum : public Primitive {
 public:
  Cumsum(int axis, bool reverse, bool inclusive) : axis_(axis), reverse_(reverse), inclusive_(inclusive) {}
  const char* name() const override { return "Cumsum"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int axis_;
  bool reverse_, inclusive_;
};

// Sorted values along an axis (NaN last), or with `arg` the stable sorting indices (int32).
class Sort : public Primitive {
 public:
  Sort(int axis, bool arg) : axis_(axis), arg_(arg) {}
  const char* name() const override { return arg_ ? "ArgSort" : "Sort"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int axis_;
  bool arg_;
};

// The k largest values along an axis, in descending order (NaN counts as the largest).
class TopK : public Primitive {
 public:
  TopK(int axis, int64_t k) : axis_(axis), k_(k) {}
  const char* name() const override { return "TopK"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int axis_;
  int64_t k_;
};

// Indices (int32) that put element `kth` (non-negative) in its sorted place along the axis, with no
// larger element before it and no smaller one after it.
class ArgPartition : public Primitive {
 public:
  ArgPartition(int axis, int64_t kth) : axis_(axis), kth_(kth) {}
  const char* name() const override { return "ArgPartition"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int axis_;
  int64_t kth_;
};

}  // namespace tessera
