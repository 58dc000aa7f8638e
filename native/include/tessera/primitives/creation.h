// Creation primitives: arrays computed from their index alone (no inputs).
#pragma once
#include "tessera/primitives.h"

namespace tessera {

// out[i] = start + i * step, computed in double and cast to the output dtype.
class Arange : public Primitive {
 public:
  Arange(double start, double step) : start_(start), step_(step) {}
  const char* name() const override { return "Arange"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  double start_, step_;
};

// num evenly spaced values from start to stop inclusive (the last one is exactly stop, as NumPy).
class Linspace : public Primitive {
 public:
  Linspace(double start, double stop) : start_(start), stop_(stop) {}
  const char* name() const override { return "Linspace"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  double start_, stop_;
};

// A 2-d mask relative to the k-th diagonal: Eye sets j - i == k, Tri sets j - i <= k.
class Eye : public Primitive {
 public:
  explicit Eye(int64_t k) : k_(k) {}
  const char* name() const override { return "Eye"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int64_t k_;
};

class Tri : public Primitive {
 public:
  explicit Tri(int64_t k) : k_(k) {}
  const char* name() const override { return "Tri"; }
  void eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) override;

 private:
  int64_t k_;
};

}  // namespace tessera
