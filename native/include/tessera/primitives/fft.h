// FFT primitives over one axis of a float32 array; complex values are a trailing axis of 2 (re, im).
#pragma once
#include "tessera/primitives.h"

namespace tessera {

// Input float32 [..., L (at axis), ...] -> [..., n/2 + 1 (at axis), ..., 2]; the signal is cropped
// or zero-padded to n.
class Rfft : public Primitive {
 public:
  Rfft(int64_t n, int axis) : n_(n), axis_(axis) {}
  const char* name() const override { return "Rfft"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int64_t n_;
  int axis_;
};

// Input float32 [..., m (at axis), ..., 2] -> [..., n (at axis), ...], normalized by 1/n. Bins past
// n/2 + 1 are ignored, missing ones are zero, and the imaginary parts of the DC bin (and of the
// Nyquist bin for even n) are ignored, as NumPy does.
class Irfft : public Primitive {
 public:
  Irfft(int64_t n, int axis) : n_(n), axis_(axis) {}
  const char* name() const override { return "Irfft"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int64_t n_;
  int axis_;
};

}  // namespace tessera
