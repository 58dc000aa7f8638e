// Layout ops: reshape, transpose, broadcast and slicing. Views share their input's buffer.
#pragma once
#include "tessera/array.h"

namespace tessera {

Array reshape(const Array& a, Shape shape);  // one dimension may be -1
Array transpose(const Array& a, std::vector<int64_t> axes = {});  // empty = reverse
Array broadcast_to(const Array& a, const Shape& shape);
// Strided slice per axis: start, stop, step (step may be negative; bounds clamped as in Python).
Array slice(const Array& a, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
            const std::vector<int64_t>& step);
// A row-major copy of `a` (no-op graph-wise if already contiguous is not assumed).
Array copy(const Array& a);

}  // namespace tessera
