// Linear, Embedding and convolution layers with MLX's parameter layouts (channels-last convolutions).
import type { DType } from "../dtype.js";
import { add } from "../ops/elementwise.js";
import { take } from "../ops/layout.js";
import { conv1d, conv2d, matmul } from "../ops/linalg.js";
import { Tensor } from "../tensor.js";
import { Module } from "./module.js";
import { constantInit, normalInit, uniformInit } from "./init.js";
import { withLowRank } from "./low_rank_path.js";

function checkDims(op: string, dims: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(dims))
    if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`${op}: ${k} must be a positive integer, got ${String(v)}`);
}

export interface LinearOptions {
  bias?: boolean;
  dtype?: DType;
}

/** y = x W^T + b with weight [outputDims, inputDims] and bias [outputDims] (MLX's nn.Linear). */
export class Linear extends Module {
  weight: Tensor;
  bias?: Tensor;

  constructor(inputDims: number, outputDims: number, opts: LinearOptions = {}) {
    super();
    checkDims("Linear", { inputDims, outputDims });
    const dtype = opts.dtype ?? "float32";
    const bound = Math.sqrt(1 / inputDims);
    this.weight = uniformInit([outputDims, inputDims], bound, dtype);
    if (opts.bias ?? true) this.bias = uniformInit([outputDims], bound, dtype);
  }

  forward(x: Tensor): Tensor {
    const y = matmul(x, this.weight.T);
    return withLowRank(this, x, this.bias ? add(y, this.bias) : y);
  }
}

/** A lookup table weight [numEmbeddings, dims]; asLinear() reuses it as an output head (tied weights). */
export class Embedding extends Module {
  weight: Tensor;

  constructor(numEmbeddings: number, dims: number, opts: { dtype?: DType } = {}) {
    super();
    checkDims("Embedding", { numEmbeddings, dims });
    this.weight = normalInit([numEmbeddings, dims], Math.sqrt(1 / dims), opts.dtype ?? "float32");
  }

  /** Rows of the table for integer ids of any shape: [...ids.shape, dims]. */
  forward(ids: Tensor): Tensor {
    return take(this.weight, ids, 0);
  }

  /** x [..., dims] times the table transposed: [..., numEmbeddings] (a tied output projection). */
  asLinear(x: Tensor): Tensor {
    return matmul(x, this.weight.T);
  }
}

export interface ConvOptions<N> {
  stride?: N;
  padding?: N;
  dilation?: N;
  groups?: number;
  bias?: boolean;
  dtype?: DType;
}

/** 1-D convolution of x [N, L, inChannels]; weight [outChannels, kernelSize, inChannels / groups] (MLX layout). */
export class Conv1d extends Module {
  weight: Tensor;
  bias?: Tensor;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: ConvOptions<number> = {}) {
    super();
    this.groups = opts.groups ?? 1;
    checkDims("Conv1d", { inChannels, outChannels, kernelSize, groups: this.groups });
    if (inChannels % this.groups || outChannels % this.groups)
      throw new Error(`Conv1d: inChannels (${inChannels}) and outChannels (${outChannels}) must be multiples of groups (${this.groups})`);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    const dtype = opts.dtype ?? "float32";
    const bound = Math.sqrt(1 / ((inChannels / this.groups) * kernelSize));
    this.weight = uniformInit([outChannels, kernelSize, inChannels / this.groups], bound, dtype);
    if (opts.bias ?? true) this.bias = constantInit([outChannels], 0, dtype);
  }

  forward(x: Tensor): Tensor {
    const y = conv1d(x, this.weight, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
    return this.bias ? add(y, this.bias) : y;
  }
}

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

/** 2-D convolution of x [N, H, W, inChannels]; weight [outChannels, kH, kW, inChannels / groups] (MLX layout). */
export class Conv2d extends Module {
  weight: Tensor;
  bias?: Tensor;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: ConvOptions<Pair> = {}) {
    super();
    const [kh, kw] = pair(kernelSize);
    this.groups = opts.groups ?? 1;
    checkDims("Conv2d", { inChannels, outChannels, kernelHeight: kh, kernelWidth: kw, groups: this.groups });
    if (inChannels % this.groups || outChannels % this.groups)
      throw new Error(`Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be multiples of groups (${this.groups})`);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.dilation = pair(opts.dilation ?? 1);
    const dtype = opts.dtype ?? "float32";
    const bound = Math.sqrt(1 / ((inChannels / this.groups) * kh * kw));
    this.weight = uniformInit([outChannels, kh, kw, inChannels / this.groups], bound, dtype);
    if (opts.bias ?? true) this.bias = constantInit([outChannels], 0, dtype);
  }

  forward(x: Tensor): Tensor {
    const y = conv2d(x, this.weight, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
    return withLowRank(this, x, this.bias ? add(y, this.bias) : y, this);
  }
}
