// Reductions (sum, mean, max, ...), softmax, cumsum and sorting. `axes` nullopt reduces every axis.
#pragma once
#include <optional>
#include <vector>

#include "tessera/array.h"
#include "tessera/primitives/reduce.h"

namespace tessera {

using OptAxes = std::optional<std::vector<int64_t>>;

Array sum(const Array& a, const OptAxes& axes = std::nullopt, bool keepdims = false);
Array prod(const Array& a, const OptAxes& axes = std::nullopt, bool keepdims = false);
Array max(const Array& a, const OptAxes& axes = std::nullopt, bool keepdims = false);
Array min(const Array& a, const OptAxes& axes = std::nullopt, bool keepdims = false);
Array mean(const Array& a, const OptAxes& axes = std::nullopt, bool keepdims = false);
Array logsumexp(const Array& a, const OptAxes& axes = std::nullopt, bool keepdims = false);
// Variance with `ddof` delta degrees of freedom (divides by n - ddof), accumulated in float32.
Array var(const Array& a, const OptAxes& axes = std::nullopt, bool keepdims = false, int64_t ddof = 0);
// Index (int32) of the first largest/smallest element along `axis`, or of the flattened array.
Array argmax(const Array& a, std::optional<int64_t> axis = std::nullopt, bool keepdims = false);
Array argmin(const Array& a, std::optional<int64_t> axis = std::nullopt, bool keepdims = false);

Array softmax(const Array& a, const std::vector<int64_t>& axes = {-1});
// Cumulative sum along `axis` (nullopt: of the flattened array); exclusive when !inclusive.
Array cumsum(const Array& a, std::optional<int64_t> axis = std::nullopt, bool reverse = false, bool inclusive = true);

Array sort(const Array& a, int64_t axis = -1);
Array argsort(const Array& a, int64_t axis = -1);
Array topk(const Array& a, int64_t k, int64_t axis = -1);
Array argpartition(const Array& a, int64_t kth, int64_t axis = -1);

}  // namespace tessera
