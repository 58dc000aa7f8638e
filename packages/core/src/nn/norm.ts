// Normalization layers over the fused fast kernels.
import type { DType } from "../dtype.js";
import * as fast from "../fast.js";
import { reshape, transpose } from "../ops/layout.js";
import { add, multiply } from "../ops/elementwise.js";
import type { Tensor } from "../tensor.js";
import { Module } from "./module.js";
import { constantInit } from "./init.js";

function checkPositive(op: string, k: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${op}: ${k} must be a positive integer, got ${String(v)}`);
}

/** Layer normalization over the last axis; weight (ones) and bias (zeros) [dims] unless disabled. */
export class LayerNorm extends Module {
  weight?: Tensor;
  bias?: Tensor;
  readonly eps: number;

  constructor(dims: number, opts: { eps?: number; affine?: boolean; bias?: boolean; dtype?: DType } = {}) {
    super();
    checkPositive("LayerNorm", "dims", dims);
    this.eps = opts.eps ?? 1e-5;
    const dtype = opts.dtype ?? "float32";
    if (opts.affine ?? true) {
      this.weight = constantInit([dims], 1, dtype);
      if (opts.bias ?? true) this.bias = constantInit([dims], 0, dtype);
    }
  }

  forward(x: Tensor): Tensor {
    return fast.layerNorm(x, this.weight ?? null, this.bias ?? null, this.eps);
  }
}

/** RMS normalization over the last axis with weight [dims] (ones). */
export class RMSNorm extends Module {
  weight: Tensor;
  readonly eps: number;

  constructor(dims: number, opts: { eps?: number; dtype?: DType } = {}) {
    super();
    checkPositive("RMSNorm", "dims", dims);
    this.eps = opts.eps ?? 1e-5;
    this.weight = constantInit([dims], 1, opts.dtype ?? "float32");
  }

  forward(x: Tensor): Tensor {
    return fast.rmsNorm(x, this.weight, this.eps);
  }
}

/**
 * Group normalization of channels-last x [N, ..., dims]. With pytorchCompatible (the default) a
 * group is C / groups consecutive channels, as PyTorch and diffusers; otherwise channels c with the
 * same c % groups (MLX's default layout).
 */
export class GroupNorm extends Module {
  weight?: Tensor;
  bias?: Tensor;
  readonly groups: number;
  readonly dims: number;
  readonly eps: number;
  readonly pytorchCompatible: boolean;

  constructor(groups: number, dims: number, opts: { eps?: number; affine?: boolean; pytorchCompatible?: boolean; dtype?: DType } = {}) {
    super();
    checkPositive("GroupNorm", "groups", groups);
    checkPositive("GroupNorm", "dims", dims);
    if (dims % groups) throw new Error(`GroupNorm: dims (${dims}) must be a multiple of groups (${groups})`);
    this.groups = groups;
    this.dims = dims;
    this.eps = opts.eps ?? 1e-5;
    this.pytorchCompatible = opts.pytorchCompatible ?? true;
    const dtype = opts.dtype ?? "float32";
    if (opts.affine ?? true) {
      this.weight = constantInit([dims], 1, dtype);
      this.bias = constantInit([dims], 0, dtype);
    }
  }

  forward(x: Tensor): Tensor {
    if (this.pytorchCompatible) return fast.groupNorm(x, this.groups, this.weight ?? null, this.bias ?? null, this.eps);
    // Interleaved groups: move channel c to position (c % groups) * (C / groups) + c / groups, normalize, move back.
    const shape = x.shape;
    const cg = this.dims / this.groups;
    const lead = shape.slice(0, -1);
    const toGroups = (t: Tensor, a: number, b: number) => reshape(transpose(reshape(t, [...lead, a, b]), [...lead.map((_, i) => i), lead.length + 1, lead.length]), shape);
    let y = toGroups(fast.groupNorm(toGroups(x, cg, this.groups), this.groups, null, null, this.eps), this.groups, cg);
    if (this.weight) y = multiply(y, this.weight);
    if (this.bias) y = add(y, this.bias);
    return y;
  }
}
