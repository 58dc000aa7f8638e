// Linear-algebra primitives: matmul, 2-D convolution (conv1d is a height-1 conv2d), pooling, upsampling.
#pragma once
#include <array>
#include <cstdint>

#include "tessera/primitives.h"

namespace tessera {

// out[..., M, N] = a[..., M, K] @ b[..., K, N], batch dims broadcast by strides. Operands may have
// different float dtypes (packing converts); integer operands share the output dtype.
class Matmul : public Primitive {
 public:
  const char* name() const override { return "Matmul"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
};

// Channels-last convolution: x [N, H, W, Cin], w [Cout, KH, KW, Cin / groups] -> [N, Ho, Wo, Cout].
struct ConvParams {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> pad_lo{0, 0}, pad_hi{0, 0};  // per spatial dim, before and after
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
};

class Conv2d : public Primitive {
 public:
  explicit Conv2d(ConvParams p) : p_(p) {}
  const char* name() const override { return "Conv2d"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;
  const ConvParams& params() const { return p_; }

 private:
  ConvParams p_;
};

// Average pooling over H, W of an NHWC array; padded zeros count in the mean (PyTorch's default).
class AvgPool2d : public Primitive {
 public:
  AvgPool2d(std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride, std::array<int64_t, 2> pad)
      : kernel_(kernel), stride_(stride), pad_(pad) {}
  const char* name() const override { return "AvgPool2d"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  std::array<int64_t, 2> kernel_, stride_, pad_;
};

// Nearest-neighbour upsampling of an NHWC array by integer factors.
class UpsampleNearest : public Primitive {
 public:
  explicit UpsampleNearest(std::array<int64_t, 2> scale) : scale_(scale) {}
  const char* name() const override { return "UpsampleNearest"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  std::array<int64_t, 2> scale_;
};

// Benchmark helper: runs a register-resident FMA loop of `iterations` on every pool thread; the
// output (float32 scalar) is the number of GFLOP performed, so a timer gives the machine's peak.
class BenchFmaPeak : public Primitive {
 public:
  explicit BenchFmaPeak(int64_t iterations) : iterations_(iterations) {}
  const char* name() const override { return "BenchFmaPeak"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int64_t iterations_;
};

}  // namespace tessera
