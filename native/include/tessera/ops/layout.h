// Layout ops: reshape, transpose, broadcast, slicing, joining, padding and gathers.
// Views (reshape where strides allow, transpose, broadcast, slice, expand_dims, squeeze, swapaxes)
// share their input's buffer; the others copy.
#pragma once
#include <optional>

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

Array swapaxes(const Array& a, int64_t axis1, int64_t axis2);
// Inserts size-1 axes at `axes` (positions in the result; negative count from its end).
Array expand_dims(const Array& a, const std::vector<int64_t>& axes);
// Removes the given axes, each of size 1.
Array squeeze(const Array& a, const std::vector<int64_t>& axes);
// Removes every size-1 axis.
Array squeeze(const Array& a);
// Merges axes start..end (inclusive, negative from the end) into one; a 0-d array gives shape [1].
Array flatten(const Array& a, int64_t start = 0, int64_t end = -1);
// Joins along an existing axis (dtypes promote as in NumPy).
Array concatenate(const std::vector<Array>& arrays, int64_t axis = 0);
// Joins along a new axis; all inputs must have the same shape.
Array stack(const std::vector<Array>& arrays, int64_t axis = 0);
// Constant padding: `widths` holds [before, after] per axis (2 * ndim entries, non-negative).
Array pad(const Array& a, const std::vector<int64_t>& widths, double value = 0);
// Elements of `a` at `indices` (any integer dtype, any shape) along `axis`, or of the flattened
// `a` when `axis` is empty. Negative indices count from the end; out-of-range ones throw at eval.
Array take(const Array& a, const Array& indices, std::optional<int64_t> axis = std::nullopt);
// NumPy's take_along_axis: `indices` has a's ndim and broadcasts with it except along `axis`.
Array take_along_axis(const Array& a, const Array& indices, int64_t axis);
// `a` with the slice region (as slice()) replaced by `update` (broadcast to the region, cast to
// a's dtype). When `a` is held by nothing else at eval time its buffer is written in place.
Array slice_update(const Array& a, const Array& update, const std::vector<int64_t>& start,
                   const std::vector<int64_t>& stop, const std::vector<int64_t>& step);
// Each element repeated `repeats` times along `axis` (of the flattened `a` when axis is empty).
Array repeat(const Array& a, int64_t repeats, std::optional<int64_t> axis = std::nullopt);
// NumPy's tile: `a` repeated reps[i] times along each axis (shorter side padded with leading 1s).
Array tile(const Array& a, const std::vector<int64_t>& reps);

}  // namespace tessera
