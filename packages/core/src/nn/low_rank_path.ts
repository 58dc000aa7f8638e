// The run-time low-rank path of a layer (nn/lora.ts sets it): kept in a private attribute, which
// parameter walks skip, so checkpoint keys stay as they are. Apart from lora.ts so layers can import it.
import { add, multiply } from "../ops/elementwise.js";
import { conv2d, matmul } from "../ops/linalg.js";
import type { Tensor } from "../tensor.js";

/** A layer's run-time updates: down, up and scale as in nn/lora.ts's LowRankUpdate. @internal */
export interface WithLowRank {
  _lowRank?: readonly { down: Tensor; up: Tensor; scale: number }[];
}

/** y plus the layer's run-time updates of input x (Linear, QuantizedLinear and Conv2d forwards call this). @internal */
export function withLowRank(layer: object, x: Tensor, y: Tensor,
  conv?: { stride: [number, number]; padding: [number, number]; dilation: [number, number] }): Tensor {
  const updates = (layer as WithLowRank)._lowRank;
  if (!updates) return y;
  for (const u of updates) {
    const h = conv ? conv2d(x, u.down, conv) : matmul(x, u.down.T);
    y = add(y, multiply(matmul(h, u.up.T), u.scale));
  }
  return y;
}
