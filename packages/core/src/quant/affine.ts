// MLX's affine quantization: packed uint32 weights with per-group scales and biases.
import { isFloating } from "../dtype.js";
import { matmul } from "../ops/linalg.js";
import { Tensor, callOp } from "../tensor.js";

/** Bit widths MLX's affine quantization supports. */
export const QUANT_BITS = [2, 3, 4, 5, 6, 8] as const;
/** Group sizes MLX's affine quantization supports. */
export const GROUP_SIZES = [32, 64, 128] as const;

export interface QuantizeOptions {
  /** Values sharing one scale and bias: 32, 64 or 128 (default 64). */
  groupSize?: number;
  /** Bits per value: 2, 3, 4, 5, 6 or 8 (default 4). */
  bits?: number;
}

export interface QuantizedMatmulOptions extends QuantizeOptions {
  /** x @ W^T with w [N, K * bits / 32] (MLX's linear layers; default true), else x @ W with w [K, N * bits / 32]. */
  transpose?: boolean;
}

/** The three arrays MLX stores for a quantized matrix (checkpoint keys `weight`, `scales`, `biases`). */
export interface QuantizedWeight {
  weight: Tensor;
  scales: Tensor;
  biases: Tensor;
}

/** Reads and checks groupSize and bits, naming `op` in errors. */
export function quantParams(op: string, opts: QuantizeOptions = {}): { groupSize: number; bits: number } {
  const groupSize = opts.groupSize ?? 64;
  const bits = opts.bits ?? 4;
  if (!(QUANT_BITS as readonly number[]).includes(bits))
    throw new Error(`${op}: bits must be 2, 3, 4, 5, 6 or 8, got ${String(bits)}`);
  if (!(GROUP_SIZES as readonly number[]).includes(groupSize))
    throw new Error(`${op}: groupSize must be 32, 64 or 128, got ${String(groupSize)}`);
  return { groupSize, bits };
}

function checkTensor(op: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new Error(`${op}: ${name} must be a Tensor`);
}

/**
 * Quantizes w [..., K] (float32/float16/bfloat16, at least 2-D, K a multiple of groupSize) exactly as
 * MLX's `mx.quantize` does: weight uint32 [..., K * bits / 32] (each row a little-endian bit stream),
 * scales and biases [..., K / groupSize] in w's dtype. Values are `scale * q + bias` with q in [0, 2^bits).
 */
export function quantize(w: Tensor, opts: QuantizeOptions = {}): QuantizedWeight {
  checkTensor("quantize", "w", w);
  const { groupSize, bits } = quantParams("quantize", opts);
  const attrs = (part: string) => ({ groupSize, bits, part });
  return {
    weight: callOp("affineQuantize", [w], attrs("weight")),
    scales: callOp("affineQuantize", [w], attrs("scales")),
    biases: callOp("affineQuantize", [w], attrs("biases")),
  };
}

/**
 * Expands packed weights to [..., K] in the scales' dtype, bit for bit as MLX's `mx.dequantize`
 * (a product and a sum, each rounded to that dtype).
 */
export function dequantize(w: Tensor, scales: Tensor, biases: Tensor, opts: QuantizeOptions = {}): Tensor {
  for (const [n, t] of [["w", w], ["scales", scales], ["biases", biases]] as const) checkTensor("dequantize", n, t);
  const { groupSize, bits } = quantParams("dequantize", opts);
  return callOp("affineDequantize", [w, scales, biases], { groupSize, bits });
}

/**
 * x [..., K] times a quantized matrix, reading the packed weights directly, as MLX's
 * `mx.quantized_matmul`; float32 x of 512 rows or more expands w once to float32 (a transient
 * copy) and runs the float GEMM, which is faster at that size. With `transpose` (the default, as MLX's linear
 * layers) w is [N, K * bits / 32] and scales/biases [N, K / groupSize]; the result is [..., N] in the
 * promoted dtype of x and scales, accumulated in float32. w must be 2-D.
 */
export function quantizedMatmul(x: Tensor, w: Tensor, scales: Tensor, biases: Tensor, opts: QuantizedMatmulOptions = {}): Tensor {
  for (const [n, t] of [["x", x], ["w", w], ["scales", scales], ["biases", biases]] as const) checkTensor("quantizedMatmul", n, t);
  const { groupSize, bits } = quantParams("quantizedMatmul", opts);
  const transpose = opts.transpose ?? true;
  if (typeof transpose !== "boolean") throw new Error(`quantizedMatmul: transpose must be a boolean, got ${String(transpose)}`);
  if (!isFloating(x.dtype)) throw new Error(`quantizedMatmul: x must be float32, float16 or bfloat16, got ${x.dtype}`);
  const rows = x.ndim ? x.size / x.shape[x.ndim - 1] : 1;
  if (transpose && x.dtype === "float32" && w.ndim === 2 && rows >= EXPAND_ROWS) {
    // Many rows (an encoder's 1500 frames): expanding w once to float32 and running the float GEMM
    // is faster than decoding it panel by panel (1500 x 512 x 2048: 28 vs 38 ms). The float32
    // scales and biases give w exactly as the kernel computes it.
    const dense = dequantize(w, scales.astype("float32"), biases.astype("float32"), { groupSize, bits });
    return matmul(x, dense.T);
  }
  return callOp("quantizedMatmul", [x, w, scales, biases], { groupSize, bits, transpose });
}

/** Rows of x from which quantizedMatmul expands the weights for the float GEMM. */
const EXPAND_ROWS = 512;
