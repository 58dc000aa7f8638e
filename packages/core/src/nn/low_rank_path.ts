// The run-time low-rank path of a layer (nn/lora.ts sets it): kept in a private attribute, which
// parameter walks skip, so checkpoint keys stay as they are. Apart from lora.ts so layers can import it.
import { add, astype, multiply, subtract } from "../ops/elementwise.js";
import { conv2d, matmul } from "../ops/linalg.js";
import type { Tensor } from "../tensor.js";

/**
 * A layer's run-time updates: down, up and scale as in nn/lora.ts's LowRankUpdate; `rowScale` is
 * DoRA's per-output-row factor (computed once by setLowRank), `bias` the layer's bias it leaves out. @internal
 */
export interface WithLowRank {
  _lowRank?: readonly { down: Tensor; up: Tensor; scale: number; magnitude?: Tensor; rowScale?: Tensor; bias?: Tensor }[];
}

/**
 * y plus the layer's run-time updates of input x (Linear, QuantizedLinear, GgmlLinear and Conv2d
 * forwards call this), computed in the updates' dtype and cast to y's. DoRA updates rescale
 * (y - bias + update) by their row factor, the bias added back outside. @internal
 */
export function withLowRank(layer: object, x: Tensor, y: Tensor,
  conv?: { stride: [number, number]; padding: [number, number]; dilation: [number, number] }): Tensor {
  const updates = (layer as WithLowRank)._lowRank;
  if (!updates) return y;
  const dtype = y.dtype;
  for (const u of updates) {
    const xu = x.dtype === u.down.dtype ? x : astype(x, u.down.dtype);
    const h = conv ? conv2d(xu, u.down, conv) : matmul(xu, u.down.T);
    const z = multiply(matmul(h, u.up.T), u.scale);
    if (!u.rowScale) {
      y = add(y, z.dtype === dtype ? z : astype(z, dtype));
      continue;
    }
    const y32 = astype(y, "float32");
    const noBias = u.bias ? subtract(y32, u.bias) : y32;
    const out = multiply(add(noBias, astype(z, "float32")), u.rowScale);
    y = astype(u.bias ? add(out, u.bias) : out, dtype);
  }
  return y;
}
