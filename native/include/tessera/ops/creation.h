// Creation ops: ranges and diagonal masks (NumPy semantics).
#pragma once
#include "tessera/array.h"

namespace tessera {

// ceil((stop - start) / step) values start, start + step, ...; step must be non-zero.
Array arange(double start, double stop, double step, Dtype dtype);
// num values from start to stop inclusive; num >= 0.
Array linspace(double start, double stop, int64_t num, Dtype dtype);
// [n, m] with ones on the k-th diagonal (k > 0 above the main one).
Array eye(int64_t n, int64_t m, int64_t k, Dtype dtype);
// [n, m] with ones at and below the k-th diagonal.
Array tri(int64_t n, int64_t m, int64_t k, Dtype dtype);

}  // namespace tessera
