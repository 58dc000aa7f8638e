#include "tessera/array.h"

#include <stdexcept>

#include "tessera/primitives.h"

namespace tessera {

int64_t shape_size(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Strides row_major_strides(const Shape& shape) {
  Strides s(shape.size());
  int64_t acc = 1;
  for (int i = int(shape.size()) - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Array::Array(Shape shape, Dtype dtype, std::shared_ptr<Primitive> prim, std::vector<Array> inputs)
    : node_(std::make_shared<Node>()) {
  for (auto d : shape)
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_str(shape));
  node_->size = shape_size(shape);
  node_->shape = std::move(shape);
  node_->dtype = dtype;
  node_->prim = std::move(prim);
  node_->inputs = std::move(inputs);
}

Array::Array(Shape shape, Dtype dtype, std::shared_ptr<Buffer> buf, Strides strides, int64_t offset)
    : Array(std::move(shape), dtype, std::shared_ptr<Primitive>(), std::vector<Array>{}) {
  if (strides.empty()) set_data(std::move(buf));
  else set_view(std::move(buf), std::move(strides), offset);
  node_->evaluated.store(true, std::memory_order_release);
}

int64_t Array::shape(int axis) const {
  int n = ndim();
  if (axis < 0) axis += n;
  if (axis < 0 || axis >= n) throw std::out_of_range("axis out of range");
  return node_->shape[axis];
}

void* Array::raw_data() const {
  if (!node_->buf) throw std::runtime_error("array has no data (not evaluated)");
  return static_cast<char*>(node_->buf->ptr()) + node_->offset * int64_t(itemsize());
}

bool Array::is_donatable() const {
  // use_count is exact here: references are only added by the JS thread through handles (none
  // exist when the count is 1) or by graph nodes that hold this one as an input.
  return node_.use_count() == 1 && node_->buf && node_->buf.use_count() == 1 && node_->buf->owns_memory() &&
         node_->row_contiguous;
}

void Array::set_data(std::shared_ptr<Buffer> buf) {
  node_->buf = std::move(buf);
  node_->strides = row_major_strides(node_->shape);
  node_->offset = 0;
  node_->row_contiguous = true;
}

void Array::set_view(std::shared_ptr<Buffer> buf, Strides strides, int64_t offset) {
  node_->buf = std::move(buf);
  // Row-contiguity ignores the strides of size-1 axes.
  bool contig = true;
  int64_t expect = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (node_->shape[i] == 1) continue;
    if (strides[i] != expect) { contig = false; break; }
    expect *= node_->shape[i];
  }
  node_->strides = std::move(strides);
  node_->offset = offset;
  node_->row_contiguous = contig;
}

Array::Node::~Node() {
  // Dropping the last handle of a long unevaluated chain would otherwise destroy it recursively,
  // one stack frame per node. Move the inputs out and free those this node held last in a loop.
  std::vector<std::shared_ptr<Node>> pending;
  auto take = [&](std::vector<Array>& ins) {
    for (auto& in : ins)
      if (in.node_) pending.push_back(std::move(in.node_));
    ins.clear();
  };
  take(inputs);
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n.use_count() == 1) take(n->inputs);  // n is freed at the end of this iteration, inputs already gone
  }
}

void Array::finish_eval() {
  node_->evaluated.store(true, std::memory_order_release);
  node_->inputs.clear();
  node_->inputs.shrink_to_fit();
  node_->prim.reset();
}

}  // namespace tessera
