// Linear algebra: matmul (NumPy semantics) and channels-last convolutions, pooling and upsampling (as MLX).
import { callOp, Tensor } from "../tensor.js";

/** One value for every spatial dim, or one per dim. */
export type PerDim2 = number | readonly [number, number];
/** Symmetric padding (one value or [h, w]) or [[top, bottom], [left, right]]. */
export type Padding2d = PerDim2 | readonly [readonly [number, number], readonly [number, number]];

export interface Conv1dOptions {
  /** Step between windows (default 1). */
  stride?: number;
  /** Zeros added on both ends (default 0), or [before, after]. */
  padding?: number | readonly [number, number];
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Channel groups: Cin and Cout must be divisible by it; groups = Cin is depthwise (default 1). */
  groups?: number;
}

export interface Conv2dOptions {
  stride?: PerDim2;
  padding?: Padding2d;
  dilation?: PerDim2;
  groups?: number;
}

export interface AvgPool2dOptions {
  /** Default: the kernel size (as PyTorch). */
  stride?: PerDim2;
  /** Zeros added on each side, at most half the kernel; they count in the mean (PyTorch's default). */
  padding?: PerDim2;
}

function checkInt(op: string, what: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min)
    throw new Error(`${op}: ${what} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function perDim(op: string, what: string, v: PerDim2 | undefined, dflt: number, min: number): number[] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === "number") return [checkInt(op, what, v, min), checkInt(op, what, v, min)];
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`${op}: ${what} must be a number or [h, w], got ${JSON.stringify(v)}`);
  return v.map((x) => checkInt(op, what, x, min));
}

function checkTensor(op: string, what: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor`);
  return t;
}

/**
 * Matrix product with NumPy semantics: 1-D operands are treated as a row (a) or column (b) vector
 * and that dimension is dropped from the result; leading batch dimensions broadcast. Mixed dtypes
 * promote (float16 with bfloat16 gives float32); halves accumulate in float32.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return callOp("matmul", [checkTensor("matmul", "a", a), checkTensor("matmul", "b", b)]);
}

/**
 * 1-D convolution, channels-last as MLX: x [N, L, Cin], weight [Cout, K, Cin / groups] -> [N, Lout, Cout].
 * (A PyTorch Conv1d weight [Cout, Cin, K] is `weight.transpose(0, 2, 1)` here.) No bias: add it after.
 */
export function conv1d(x: Tensor, weight: Tensor, opts: Conv1dOptions = {}): Tensor {
  const op = "conv1d";
  const { stride = 1, padding = 0, dilation = 1, groups = 1 } = opts;
  const pad = typeof padding === "number" ? [checkInt(op, "padding", padding, 0)] : perDim(op, "padding", padding, 0, 0);
  return callOp(op, [checkTensor(op, "x", x), checkTensor(op, "weight", weight)], {
    stride: checkInt(op, "stride", stride, 1),
    padding: pad,
    dilation: checkInt(op, "dilation", dilation, 1),
    groups: checkInt(op, "groups", groups, 1),
  });
}

/**
 * 2-D convolution, channels-last as MLX: x [N, H, W, Cin], weight [Cout, KH, KW, Cin / groups] ->
 * [N, Hout, Wout, Cout]. (A PyTorch Conv2d weight [Cout, Cin, KH, KW] is `weight.transpose(0, 2, 3, 1)`.)
 */
export function conv2d(x: Tensor, weight: Tensor, opts: Conv2dOptions = {}): Tensor {
  const op = "conv2d";
  const { padding = 0 } = opts;
  let pad: number[];
  if (Array.isArray(padding) && padding.some((p) => Array.isArray(p))) {
    if (padding.length !== 2 || !padding.every((p) => Array.isArray(p) && p.length === 2))
      throw new Error(`${op}: padding must be a number, [h, w] or [[top, bottom], [left, right]], got ${JSON.stringify(padding)}`);
    pad = (padding as readonly (readonly number[])[]).flat().map((p) => checkInt(op, "padding", p, 0));
  } else {
    pad = perDim(op, "padding", padding as PerDim2, 0, 0);
  }
  return callOp(op, [checkTensor(op, "x", x), checkTensor(op, "weight", weight)], {
    stride: perDim(op, "stride", opts.stride, 1, 1),
    padding: pad,
    dilation: perDim(op, "dilation", opts.dilation, 1, 1),
    groups: checkInt(op, "groups", opts.groups ?? 1, 1),
  });
}

/** Average pooling over H and W of x [N, H, W, C] (integer inputs give float32). */
export function avgPool2d(x: Tensor, kernel: PerDim2, opts: AvgPool2dOptions = {}): Tensor {
  const op = "avgPool2d";
  const k = perDim(op, "kernel", kernel, 1, 1);
  return callOp(op, [checkTensor(op, "x", x)], {
    kernel: k,
    stride: opts.stride === undefined ? k : perDim(op, "stride", opts.stride, 1, 1),
    padding: perDim(op, "padding", opts.padding, 0, 0),
  });
}

/** Nearest-neighbour upsampling of x [N, H, W, C] by integer factors -> [N, H * sh, W * sw, C]. */
export function upsampleNearest(x: Tensor, scale: PerDim2): Tensor {
  const op = "upsampleNearest";
  return callOp(op, [checkTensor(op, "x", x)], { scale: perDim(op, "scale", scale, 1, 1) });
}
