// Matmuls over GGUF block-quantized weights, read block by block (no float copy of the weight).
import { isFloating } from "../dtype.js";
import { DEQUANTIZABLE, ggmlType } from "../io/ggml_types.js";
import { Tensor, callOp, tensor } from "../tensor.js";

/** The ggml block types ggufMatmul reads (AVX2 int8 mat-vec kernels for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K). */
export const GGUF_MATMUL_TYPES = DEQUANTIZABLE;

/**
 * x [..., K] @ W^T where W [N, K] is stored as GGUF blocks of `type` (uint8 [N, rowBytes], as
 * `GGUFFile.tensor(name)` returns a quantized tensor) -> [..., N] in x's dtype. With AVX2, for Q4_0,
 * Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K and up to 128 rows of x, x is first rounded to int8
 * blocks (32 values, 256 for the k-quants; each value within amax / 254 of its block) and meets the
 * weight quants in integer dot products, as llama.cpp does. Otherwise weights are decoded to float32
 * block by block and the result equals `matmul(x, dequantize(blocks).T)` up to float32 summation order.
 */
export function ggufMatmul(x: Tensor, blocks: Tensor, type: string | number): Tensor {
  if (!(x instanceof Tensor)) throw new Error("ggufMatmul: x must be a Tensor");
  if (!(blocks instanceof Tensor)) throw new Error("ggufMatmul: blocks must be a Tensor");
  const t = ggmlType(type);
  if (!t) throw new Error(`ggufMatmul: unknown ggml type ${String(type)}`);
  if (!(GGUF_MATMUL_TYPES as readonly string[]).includes(t.name))
    throw new Error(t.dtype || t.name === "F64"
      ? `ggufMatmul: ${t.name} is not a block-quantized type (use a plain matmul)`
      : `ggufMatmul: ggml type ${t.name} is not supported yet`);
  if (!isFloating(x.dtype)) throw new Error(`ggufMatmul: x must be float32, float16 or bfloat16, got ${x.dtype}`);
  return callOp("ggufMatmul", [x, blocks], { type: t.id });
}

/** The ggml block types {@link quantizeGgml} writes. */
export const GGUF_QUANTIZE_TYPES = ["Q8_0"] as const;

/**
 * Quantizes a float weight W [N, K] (K a multiple of 32) into ggml blocks of `type`, as ggml's
 * `quantize_row_q8_0_ref` and gguf-py's `quantize` do: per block of 32 values d = amax / 127 (stored as
 * float16), q = round(x / d) (halves away from zero). Returns uint8 [N, K / 32 * 34], the layout
 * {@link ggufMatmul} and `io.dequantize` read.
 */
export function quantizeGgml(w: Tensor, type: (typeof GGUF_QUANTIZE_TYPES)[number] = "Q8_0"): Tensor {
  if (!(w instanceof Tensor)) throw new Error("quantizeGgml: w must be a Tensor");
  if (!(GGUF_QUANTIZE_TYPES as readonly string[]).includes(type))
    throw new Error(`quantizeGgml: can write ${GGUF_QUANTIZE_TYPES.join(", ")}, not ${String(type)}`);
  if (!isFloating(w.dtype)) throw new Error(`quantizeGgml: w must be a float tensor, got ${w.dtype}`);
  if (w.ndim !== 2 || w.shape[1] % 32 !== 0)
    throw new Error(`quantizeGgml: w must be [N, K] with K a multiple of 32 (${type} blocks), got [${w.shape.join(", ")}]`);
  const [n, k] = w.shape;
  const x = w.astype("float32").dataSync() as Float32Array;
  const blocks = (n * k) / 32;
  const d = new Float32Array(blocks);
  const q = new Int8Array(n * k);
  for (let b = 0; b < blocks; b++) {
    const o = b * 32;
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[o + i]));
    const scale = Math.fround(amax / 127);
    const inv = scale === 0 ? 0 : Math.fround(1 / scale);
    d[b] = scale;
    for (let i = 0; i < 32; i++) {
      const v = Math.fround(x[o + i] * inv);
      q[o + i] = Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
    }
  }
  const dBits = tensor(d).astype("float16").rawHalfBits();
  const out = new Uint8Array(blocks * 34);
  const qBytes = new Uint8Array(q.buffer);
  for (let b = 0; b < blocks; b++) {
    out[b * 34] = dBits[b] & 0xff;
    out[b * 34 + 1] = dBits[b] >> 8;
    out.set(qBytes.subarray(b * 32, b * 32 + 32), b * 34 + 2);
  }
  return tensor(out, { dtype: "uint8", shape: [n, (k / 32) * 34] });
}
