// Helpers shared by op builders: axis normalization and broadcasting.
#pragma once
#include <string>
#include <vector>

#include "tessera/array.h"

namespace tessera {

// Maps a possibly negative axis into [0, ndim); throws naming `op` when out of range.
int normalize_axis(int64_t axis, int ndim, const char* op);
std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int ndim, const char* op);
// The NumPy broadcast of two shapes; throws naming both shapes and `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Throws std::invalid_argument with "op: message".
[[noreturn]] void op_error(const char* op, const std::string& message);

}  // namespace tessera
