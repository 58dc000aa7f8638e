// The primitive contract: a primitive computes one output array from its inputs on a backend.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/array.h"
#include "tessera/context.h"

namespace tessera {

class Primitive {
 public:
  virtual ~Primitive() = default;
  virtual const char* name() const = 0;
  virtual void eval_cpu(const std::vector<Array>& inputs, Array& out, Context& ctx) = 0;
  virtual void eval_gpu(const std::vector<Array>& inputs, Array& out, Context& ctx) {
    throw std::runtime_error(std::string(name()) + " has no GPU kernel yet");
  }
};

// An input whose data is supplied later (used by compile's tracer); evaluating it is an error.
class Placeholder : public Primitive {
 public:
  const char* name() const override { return "Placeholder"; }
  void eval_cpu(const std::vector<Array>&, Array&, Context&) override {
    throw std::runtime_error("a placeholder (compile trace input) cannot be evaluated");
  }
};

}  // namespace tessera
