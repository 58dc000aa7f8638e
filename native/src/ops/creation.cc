#include "tessera/ops/creation.h"

#include <cmath>
#include <cstdio>

#include "tessera/ops/common.h"
#include "tessera/primitives/creation.h"

namespace tessera {

namespace {

// Creation outputs are bounded so a mistyped bound cannot ask for an absurd allocation silently.
constexpr double kMaxElements = 9.0e15;

std::string num_str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void check_dims(const char* op, int64_t n, int64_t m) {
  if (n < 0 || m < 0)
    op_error(op, "n and m must be non-negative, got n = " + std::to_string(n) + ", m = " + std::to_string(m));
}

}  // namespace

Array arange(double start, double stop, double step, Dtype dtype) {
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step))
    op_error("arange", "start, stop and step must be finite, got " + num_str(start) + ", " + num_str(stop) + ", " + num_str(step));
  if (step == 0) op_error("arange", "step must be non-zero");
  if (dtype == Dtype::Bool) op_error("arange", "bool is not a valid dtype for a range");
  double len = std::ceil((stop - start) / step);
  if (len > kMaxElements) op_error("arange", "the range from " + num_str(start) + " to " + num_str(stop) + " by " + num_str(step) + " is too long");
  int64_t n = len > 0 ? int64_t(len) : 0;
  return Array({n}, dtype, std::make_shared<Arange>(start, step), {});
}

Array linspace(double start, double stop, int64_t num, Dtype dtype) {
  if (num < 0) op_error("linspace", "num must be non-negative, got " + std::to_string(num));
  if (!std::isfinite(start) || !std::isfinite(stop))
    op_error("linspace", "start and stop must be finite, got " + num_str(start) + " and " + num_str(stop));
  return Array({num}, dtype, std::make_shared<Linspace>(start, stop), {});
}

Array eye(int64_t n, int64_t m, int64_t k, Dtype dtype) {
  check_dims("eye", n, m);
  return Array({n, m}, dtype, std::make_shared<Eye>(k), {});
}

Array tri(int64_t n, int64_t m, int64_t k, Dtype dtype) {
  check_dims("tri", n, m);
  return Array({n, m}, dtype, std::make_shared<Tri>(k), {});
}

}  // namespace tessera
