// Activation functions and their Module forms.
import { gelu as geluOp, multiply, relu as reluOp, sigmoid as sigmoidOp, silu as siluOp, tanh as tanhOp } from "../ops/elementwise.js";
import type { Tensor } from "../tensor.js";
import { Module } from "./module.js";

/** GELU variants as MLX names them: "none" (exact, erf), "precise"/"tanh" (tanh approximation), "fast" (x * sigmoid(1.702 x)). */
export type GeluApprox = "none" | "precise" | "tanh" | "fast";

/** Exact GELU: x * Phi(x). */
export function gelu(x: Tensor): Tensor {
  return geluOp(x, "none");
}
/** GELU's tanh approximation (HF "gelu_new" / "gelu_pytorch_tanh"). */
export function geluApprox(x: Tensor): Tensor {
  return geluOp(x, "tanh");
}
/** x * sigmoid(1.702 x) (CLIP's "quick_gelu"). */
export function geluFastApprox(x: Tensor): Tensor {
  return multiply(x, sigmoidOp(multiply(x, 1.702)));
}
export function silu(x: Tensor): Tensor {
  return siluOp(x);
}
export function relu(x: Tensor): Tensor {
  return reluOp(x);
}
export function tanh(x: Tensor): Tensor {
  return tanhOp(x);
}
export function sigmoid(x: Tensor): Tensor {
  return sigmoidOp(x);
}

export class GELU extends Module {
  readonly approx: GeluApprox;
  constructor(approx: GeluApprox = "none") {
    super();
    if (!["none", "precise", "tanh", "fast"].includes(approx))
      throw new Error(`GELU: approx must be "none", "precise", "tanh" or "fast", got ${String(approx)}`);
    this.approx = approx;
  }
  forward(x: Tensor): Tensor {
    return this.approx === "none" ? gelu(x) : this.approx === "fast" ? geluFastApprox(x) : geluApprox(x);
  }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}
