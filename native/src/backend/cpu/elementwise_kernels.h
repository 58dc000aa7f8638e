// Contiguous float32 elementwise kernels, shared by the Unary/Binary primitives and compile's fuser.
#pragma once
#include <cstdint>

#include "tessera/primitives/elementwise.h"

namespace tessera::cpu {

// out[i] = op(x[i]) for i < n; out may alias x.
void unary_f32(UnaryOp op, const float* x, float* out, int64_t n);
// out[i] = op(a[i * sa], b[i * sb]) for i < n with sa, sb in {0, 1}; out may alias a or b.
// Comparisons write 1.0f / 0.0f.
void binary_f32(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n);

}  // namespace tessera::cpu
