// Array: a node of the lazy graph. Shape and dtype are known when it is built; data once evaluated.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "tessera/allocator.h"
#include "tessera/dtype.h"

namespace tessera {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;  // in elements, may be 0 (broadcast) or negative
class Primitive;

int64_t shape_size(const Shape& shape);
Strides row_major_strides(const Shape& shape);
std::string shape_str(const Shape& shape);

class Array {
 public:
  Array() = default;
  // A node computed by `prim` from `inputs`.
  Array(Shape shape, Dtype dtype, std::shared_ptr<Primitive> prim, std::vector<Array> inputs);
  // An evaluated array over `buf` (row-major unless strides are given).
  Array(Shape shape, Dtype dtype, std::shared_ptr<Buffer> buf, Strides strides = {}, int64_t offset = 0);

  bool valid() const { return node_ != nullptr; }
  const Shape& shape() const { return node_->shape; }
  int64_t shape(int axis) const;  // negative axes count from the end
  Dtype dtype() const { return node_->dtype; }
  int ndim() const { return int(node_->shape.size()); }
  int64_t size() const { return node_->size; }
  size_t itemsize() const { return tessera::itemsize(node_->dtype); }
  size_t nbytes() const { return size_t(node_->size) * itemsize(); }
  uint64_t id() const { return reinterpret_cast<uint64_t>(node_.get()); }

  // Graph.
  bool is_evaluated() const { return node_->evaluated.load(std::memory_order_acquire); }
  const std::vector<Array>& inputs() const { return node_->inputs; }
  const std::shared_ptr<Primitive>& primitive() const { return node_->prim; }
  bool has_primitive() const { return node_->prim != nullptr; }

  // Data (valid once evaluated, or inside the primitive that sets it).
  const Strides& strides() const { return node_->strides; }
  int64_t stride(int axis) const { return node_->strides[axis]; }
  int64_t offset() const { return node_->offset; }  // in elements
  bool row_contiguous() const { return node_->row_contiguous; }
  const std::shared_ptr<Buffer>& buffer() const { return node_->buf; }
  void* raw_data() const;  // pointer to element 0 (buffer + offset)
  // True when this handle is the only reference to the node and the node the only holder of its
  // buffer, which is allocator memory laid out row-contiguously: a primitive that consumes this
  // array may then write its output into that buffer in place (e.g. SliceUpdate's KV caches).
  bool is_donatable() const;
  template <typename T>
  T* data() const { return static_cast<T*>(raw_data()); }

  // Called by primitives while evaluating this array.
  void set_data(std::shared_ptr<Buffer> buf);  // row-major, offset 0
  void set_view(std::shared_ptr<Buffer> buf, Strides strides, int64_t offset);
  // Marks evaluated and drops inputs and primitive so intermediates can be freed.
  void finish_eval();

 private:
  struct Node {
    ~Node();  // releases long input chains iteratively (no recursion per node)
    Shape shape;
    Dtype dtype;
    int64_t size;
    std::shared_ptr<Primitive> prim;
    std::vector<Array> inputs;
    std::shared_ptr<Buffer> buf;
    Strides strides;
    int64_t offset = 0;
    bool row_contiguous = true;
    std::atomic<bool> evaluated{false};
  };
  std::shared_ptr<Node> node_;
};

}  // namespace tessera
