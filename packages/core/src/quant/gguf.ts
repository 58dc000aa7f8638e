// Matmuls over GGUF block-quantized weights, read block by block (no float copy of the weight).
import { isFloating } from "../dtype.js";
import { DEQUANTIZABLE, ggmlType } from "../io/ggml_types.js";
import { Tensor, callOp } from "../tensor.js";

/** The ggml block types ggufMatmul reads (AVX2 mat-vec kernels for Q4_0, Q8_0, Q4_K, Q5_K, Q6_K). */
export const GGUF_MATMUL_TYPES = DEQUANTIZABLE;

/**
 * x [..., K] @ W^T where W [N, K] is stored as GGUF blocks of `type` (uint8 [N, rowBytes], as
 * `GGUFFile.tensor(name)` returns a quantized tensor) -> [..., N] in x's dtype. Weights are decoded to
 * float32 block by block inside the kernel (activations are not quantized), so the result equals
 * `matmul(x, dequantize(blocks).T)` up to float32 summation order.
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
