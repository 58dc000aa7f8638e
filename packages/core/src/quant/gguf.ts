// Matmuls over GGUF block-quantized weights, read block by block (no float copy of the weight).
import { isFloating } from "../dtype.js";
import { DEQUANTIZABLE, ggmlType } from "../io/ggml_types.js";
import { Tensor, callOp } from "../tensor.js";

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
