#include "tessera/ops/fft.h"

#include "tessera/ops/common.h"
#include "tessera/ops/elementwise.h"
#include "tessera/primitives/fft.h"

namespace tessera {

namespace {

void check_input(const Array& a, const char* op) {
  if (a.dtype() == Dtype::Bool || a.dtype() == Dtype::Int64)
    op_error(op, std::string("expected a real float or small integer array, got ") + dtype_name(a.dtype()));
}

}  // namespace

Array rfft(const Array& a, int64_t n, int64_t axis) {
  check_input(a, "fft.rfft");
  if (a.ndim() == 0) op_error("fft.rfft", "expected an array with at least one dimension, got a scalar");
  int ax = normalize_axis(axis, a.ndim(), "fft.rfft");
  if (n == -1) n = a.shape(ax);
  if (n < 1)
    op_error("fft.rfft", "the number of points n must be at least 1, got " + std::to_string(n) + " (input shape " +
                             shape_str(a.shape()) + ", axis " + std::to_string(axis) + ")");
  Shape shape = a.shape();
  shape[ax] = n / 2 + 1;
  shape.push_back(2);
  return Array(shape, Dtype::Float32, std::make_shared<Rfft>(n, ax), {astype(a, Dtype::Float32)});
}

Array irfft(const Array& x, int64_t n, int64_t axis) {
  check_input(x, "fft.irfft");
  if (x.ndim() < 2 || x.shape().back() != 2)
    op_error("fft.irfft", "expected a complex array of shape [..., m, 2] (re, im last), got " + shape_str(x.shape()));
  int ax = normalize_axis(axis, x.ndim(), "fft.irfft");
  if (ax == x.ndim() - 1)
    op_error("fft.irfft", "axis " + std::to_string(axis) + " is the (re, im) axis of shape " + shape_str(x.shape()) +
                              "; pass the frequency axis (default -2)");
  int64_t m = x.shape(ax);
  if (n == -1) n = 2 * (m - 1);
  if (n < 1)
    op_error("fft.irfft", "the number of output points n must be at least 1, got " + std::to_string(n) + " (input shape " +
                              shape_str(x.shape()) + "; with m = 1 bin pass n explicitly)");
  Shape shape = x.shape();
  shape.pop_back();
  shape[ax] = n;
  return Array(shape, Dtype::Float32, std::make_shared<Irfft>(n, ax), {astype(x, Dtype::Float32)});
}

}  // namespace tessera
