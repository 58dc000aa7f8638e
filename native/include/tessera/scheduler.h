// Evaluates graphs: topological order, one kernel per node, intermediates freed as they are consumed.
#pragma once
#include <vector>

#include "tessera/array.h"
#include "tessera/context.h"

namespace tessera {

// Evaluates `outputs` and everything they need that is not yet evaluated. Takes rt.eval_mu.
void eval(const std::vector<Array>& outputs, Runtime& rt);

}  // namespace tessera
