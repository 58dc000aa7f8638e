// CPU eval of the NHWC resampling primitives: AvgPool2d and UpsampleNearest.
#include <algorithm>
#include <cstring>
#include <vector>

#include "tessera/primitives/linalg.h"

namespace tessera {

void AvgPool2d::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array x = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
  int64_t ho = out.shape()[1], wo = out.shape()[2];
  // Padded zeros count (count_include_pad): the divisor is always the kernel area.
  float inv = 1.0f / float(kernel_[0] * kernel_[1]);
  dispatch_float(out.dtype(), "avgPool2d", [&]<typename T>() {
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    ctx.pool.parallel_for(n * ho, std::max<int64_t>(1, 8192 / std::max<int64_t>(wo * c * kernel_[0] * kernel_[1], 1)),
                          [&](int64_t r0, int64_t r1) {
      std::vector<float> acc(static_cast<size_t>(c));
      for (int64_t r = r0; r < r1; ++r) {
        int64_t b = r / ho, oh = r % ho;
        int64_t h0 = std::max<int64_t>(0, oh * stride_[0] - pad_[0]), h1 = std::min(h, oh * stride_[0] - pad_[0] + kernel_[0]);
        for (int64_t ow = 0; ow < wo; ++ow) {
          int64_t w0 = std::max<int64_t>(0, ow * stride_[1] - pad_[1]), w1 = std::min(w, ow * stride_[1] - pad_[1] + kernel_[1]);
          std::fill(acc.begin(), acc.end(), 0.0f);
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) {
              const T* px = xp + ((b * h + ih) * w + iw) * c;
              for (int64_t k = 0; k < c; ++k) acc[k] += load(px[k]);
            }
          T* po = op + (r * wo + ow) * c;
          for (int64_t k = 0; k < c; ++k) po[k] = store<T>(acc[k] * inv);
        }
      }
    });
  });
}

void UpsampleNearest::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array x = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2];
  size_t pixel = size_t(x.shape()[3]) * x.itemsize();
  size_t out_row = pixel * size_t(w * scale_[1]);
  const char* xp = static_cast<const char*>(x.raw_data());
  char* op = static_cast<char*>(out.raw_data());
  // Each input row is widened once, then copied to the scale_[0] output rows it covers.
  ctx.pool.parallel_for(n * h, std::max<int64_t>(1, int64_t(65536 / std::max<size_t>(out_row, 1))), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      char* dst = op + size_t(r * scale_[0]) * out_row;
      const char* src = xp + size_t(r * w) * pixel;
      for (int64_t iw = 0; iw < w; ++iw)
        for (int64_t s = 0; s < scale_[1]; ++s) std::memcpy(dst + size_t(iw * scale_[1] + s) * pixel, src + iw * pixel, pixel);
      for (int64_t s = 1; s < scale_[0]; ++s) std::memcpy(dst + size_t(s) * out_row, dst, out_row);
    }
  });
}

}  // namespace tessera
