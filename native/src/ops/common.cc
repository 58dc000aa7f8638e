#include "tessera/ops/common.h"

#include <stdexcept>

namespace tessera {

void op_error(const char* op, const std::string& message) { throw std::invalid_argument(std::string(op) + ": " + message); }

int normalize_axis(int64_t axis, int ndim, const char* op) {
  if (axis < -ndim || axis >= ndim)
    op_error(op, "axis " + std::to_string(axis) + " is out of range for an array of " + std::to_string(ndim) + " dimensions");
  return int(axis < 0 ? axis + ndim : axis);
}

std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int ndim, const char* op) {
  std::vector<int> out;
  std::vector<bool> used(ndim, false);
  for (auto a : axes) {
    int ax = normalize_axis(a, ndim, op);
    if (used[ax]) op_error(op, "axis " + std::to_string(a) + " is repeated");
    used[ax] = true;
    out.push_back(ax);
  }
  return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      op_error(op, "shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace tessera
