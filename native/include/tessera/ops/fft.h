// Real FFTs (NumPy's rfft/irfft) with complex results as a trailing axis of 2 (re, im).
#pragma once
#include "tessera/array.h"

namespace tessera {

// The n/2 + 1 non-negative frequencies of the length-n DFT of `a` along `axis` (n = -1: the
// axis length). Float32 out of any input dtype.
Array rfft(const Array& a, int64_t n, int64_t axis);
// The length-n real signal whose spectrum is x [..., m, ..., 2] along `axis` (an axis of x other
// than its last); n = -1 means 2 * (m - 1).
Array irfft(const Array& x, int64_t n, int64_t axis);

}  // namespace tessera
