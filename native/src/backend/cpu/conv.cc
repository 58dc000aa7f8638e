// CPU eval of Conv2d (channels-last). Three ways, picked by shape: a direct kernel for depthwise
// convs (one input channel per group: GEMMs would be tiny), the GEMM straight on the input for
// 1x1 stride-1 convs, and im2col (in row chunks that bound the scratch memory) + GEMM otherwise.
#include <algorithm>
#include <cstring>
#include <memory>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "backend/cpu/gemm.h"
#include "tessera/primitives/linalg.h"

namespace tessera {

namespace {

constexpr int64_t kIm2colFloats = int64_t(8) << 20;  // 32 MiB of patches per chunk at most

struct Geometry {
  int64_t n, h, w, cin, cout, kh, kw, ho, wo, groups, cg, coutg;
};

Geometry geometry(const Array& x, const Array& w, const Array& out, const ConvParams& p) {
  Geometry g{x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3], w.shape()[0], w.shape()[1], w.shape()[2],
             out.shape()[1], out.shape()[2], p.groups, w.shape()[3], w.shape()[0] / p.groups};
  return g;
}

// acc[0:n] += x[0:n] * w[0:n]: a tap of a depthwise conv over a run of channels.
inline void tap(float* acc, const float* x, const float* w, int64_t n) {
  int64_t c = 0;
#if defined(__AVX2__) && defined(__FMA__)
  for (; c + 8 <= n; c += 8)
    _mm256_storeu_ps(acc + c, _mm256_fmadd_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(w + c), _mm256_loadu_ps(acc + c)));
#endif
  for (; c < n; ++c) acc[c] += x[c] * w[c];
}

// One input channel per group: out[o] = sum over taps of x[c = o / mult] * w[o, tap]. The input is
// read as float32 rows (halves converted once), channels in blocks that keep the accumulators in L1.
template <typename T>
void depthwise(ThreadPool& pool, const Geometry& g, const ConvParams& p, const T* x, const T* w, T* out) {
  int64_t mult = g.cout / g.cin, taps = g.kh * g.kw;
  // Weights as [KH, KW, Cout] floats, so a tap is one contiguous vector over output channels.
  std::vector<float> wt(size_t(taps * g.cout));
  for (int64_t o = 0; o < g.cout; ++o)
    for (int64_t t = 0; t < taps; ++t) wt[t * g.cout + o] = load(w[o * taps + t]);
  std::vector<float> xf;
  const float* xs = reinterpret_cast<const float*>(x);
  if (!std::is_same_v<T, float> || mult != 1) {  // float32 input with each channel repeated mult times
    xf.resize(size_t(g.n * g.h * g.w * g.cout));
    pool.parallel_for(g.n * g.h * g.w, 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        for (int64_t o = 0; o < g.cout; ++o) xf[i * g.cout + o] = load(x[i * g.cin + o / mult]);
    });
    xs = xf.data();
  }
  constexpr int64_t kBlock = 256;
  pool.parallel_for(g.n * g.ho, std::max<int64_t>(1, 8192 / std::max<int64_t>(g.wo * g.cout * taps, 1)),
                    [&](int64_t r0, int64_t r1) {
    alignas(32) float acc[kBlock];
    for (int64_t r = r0; r < r1; ++r) {
      int64_t n = r / g.ho, oh = r % g.ho;
      for (int64_t ow = 0; ow < g.wo; ++ow) {
        for (int64_t c0 = 0; c0 < g.cout; c0 += kBlock) {
          int64_t nc = std::min(kBlock, g.cout - c0);
          std::fill(acc, acc + nc, 0.0f);
          for (int64_t i = 0; i < g.kh; ++i) {
            int64_t ih = oh * p.stride[0] - p.pad_lo[0] + i * p.dilation[0];
            if (ih < 0 || ih >= g.h) continue;
            for (int64_t j = 0; j < g.kw; ++j) {
              int64_t iw = ow * p.stride[1] - p.pad_lo[1] + j * p.dilation[1];
              if (iw < 0 || iw >= g.w) continue;
              tap(acc, xs + ((n * g.h + ih) * g.w + iw) * g.cout + c0, wt.data() + (i * g.kw + j) * g.cout + c0, nc);
            }
          }
          T* op = out + (r * g.wo + ow) * g.cout + c0;
          for (int64_t o = 0; o < nc; ++o) op[o] = store<T>(acc[o]);
        }
      }
    }
  });
}

// Patch rows [r0, r1) (r = (n, oh, ow)) as float32, columns ordered (group, kh, kw, c) so each
// group's patch is one contiguous run of kh * kw * cg columns.
template <typename T>
void im2col(ThreadPool& pool, const Geometry& g, const ConvParams& p, const T* x, int64_t r0, int64_t r1, float* cols) {
  int64_t row_len = g.kh * g.kw * g.cin;
  pool.parallel_for(r1 - r0, std::max<int64_t>(1, 16384 / row_len), [&](int64_t b, int64_t e) {
    for (int64_t r = r0 + b; r < r0 + e; ++r) {
      int64_t ow = r % g.wo, oh = (r / g.wo) % g.ho, n = r / (g.wo * g.ho);
      float* dst = cols + (r - r0) * row_len;
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        for (int64_t i = 0; i < g.kh; ++i) {
          int64_t ih = oh * p.stride[0] - p.pad_lo[0] + i * p.dilation[0];
          for (int64_t j = 0; j < g.kw; ++j, dst += g.cg) {
            int64_t iw = ow * p.stride[1] - p.pad_lo[1] + j * p.dilation[1];
            if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) {
              std::fill(dst, dst + g.cg, 0.0f);
              continue;
            }
            const T* src = x + ((n * g.h + ih) * g.w + iw) * g.cin + grp * g.cg;
            if constexpr (std::is_same_v<T, float>) std::memcpy(dst, src, size_t(g.cg) * sizeof(float));
            else for (int64_t c = 0; c < g.cg; ++c) dst[c] = load(src[c]);
          }
        }
      }
    }
  });
}

}  // namespace

void Conv2d::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array x = ctx.contiguous(in[0]), w = ctx.contiguous(in[1]);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Geometry g = geometry(x, w, out, p_);
  const ConvParams& p = p_;
  Dtype dt = out.dtype();
  int64_t patch = g.kh * g.kw * g.cg;  // K of each group's GEMM
  // Weights of group grp as the GEMM's B [patch, coutg]: element (k, j) at w[(grp * coutg + j) * patch + k].
  auto weight_ref = [&](int64_t grp) {
    return cpu::MatRef{static_cast<const char*>(w.raw_data()) + grp * g.coutg * patch * w.itemsize(), dt, 1, patch};
  };
  char* o = static_cast<char*>(out.raw_data());
  auto out_ref = [&](int64_t row, int64_t grp) {
    return cpu::OutRef{o + (row * g.cout + grp * g.coutg) * out.itemsize(), dt, g.cout};
  };
  int64_t rows = g.n * g.ho * g.wo;
  dispatch_float(dt, "conv2d", [&]<typename T>() {
    const T* xp = x.data<T>();
    if (g.cg == 1 && g.groups > 1) {
      depthwise<T>(ctx.pool, g, p, xp, w.data<T>(), out.data<T>());
      return;
    }
    bool pointwise = g.kh == 1 && g.kw == 1 && p.stride[0] == 1 && p.stride[1] == 1 && p.pad_lo == std::array<int64_t, 2>{0, 0} &&
                     p.pad_hi == std::array<int64_t, 2>{0, 0};
    if (pointwise) {  // the input already is the patch matrix [rows, cin]
      for (int64_t grp = 0; grp < g.groups; ++grp)
        cpu::gemm(ctx, rows, g.coutg, g.cg, {xp + grp * g.cg, dt, g.cin, 1}, weight_ref(grp), out_ref(0, grp));
      return;
    }
    int64_t row_len = patch * g.groups;
    int64_t chunk = std::clamp<int64_t>(kIm2colFloats / row_len, 64, rows);
    std::unique_ptr<float[]> cols(new float[size_t(chunk * row_len)]);
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      int64_t r1 = std::min(rows, r0 + chunk);
      im2col<T>(ctx.pool, g, p, xp, r0, r1, cols.get());
      for (int64_t grp = 0; grp < g.groups; ++grp)
        cpu::gemm(ctx, r1 - r0, g.coutg, patch, {cols.get() + grp * patch, Dtype::Float32, row_len, 1},
                  weight_ref(grp), out_ref(r0, grp));
    }
  });
}

}  // namespace tessera
