// Linear-algebra ops: matmul (NumPy semantics), channels-last convolutions, pooling, upsampling.
#pragma once
#include <vector>

#include "tessera/array.h"
#include "tessera/primitives/linalg.h"

namespace tessera {

// NumPy matmul: 1-D operands get a dimension prepended (a) or appended (b) and removed after;
// batch dims broadcast. Integer/float mixes promote; float16 @ bfloat16 gives float32.
Array matmul(const Array& a, const Array& b);

// Spatial options per dim: `padding` holds either one value per dim (symmetric) or lo, hi per dim.
struct ConvOptions {
  std::vector<int64_t> stride{1}, padding{0}, dilation{1};
  int64_t groups = 1;
};
// x [N, L, Cin], w [Cout, K, Cin / groups] -> [N, Lo, Cout].
Array conv1d(const Array& x, const Array& w, const ConvOptions& opts);
// x [N, H, W, Cin], w [Cout, KH, KW, Cin / groups] -> [N, Ho, Wo, Cout].
Array conv2d(const Array& x, const Array& w, const ConvOptions& opts);
// x [N, H, W, C]; stride defaults to the kernel (empty); padding symmetric per dim.
Array avg_pool2d(const Array& x, std::vector<int64_t> kernel, std::vector<int64_t> stride, std::vector<int64_t> padding);
// x [N, H, W, C] -> [N, H * sh, W * sw, C].
Array upsample_nearest(const Array& x, std::vector<int64_t> scale);
// See BenchFmaPeak.
Array bench_fma_peak(int64_t iterations);

}  // namespace tessera
