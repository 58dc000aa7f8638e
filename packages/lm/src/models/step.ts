// compile() for the parts of a one-token decoding step whose shapes never change (a block's
// projections, norms and MLP): traced once, then replayed in one native call per step, so building
// the step's graph in JS costs a few ops per layer instead of dozens (ARCHITECTURE.md, "lm: the
// decode step"). A trace captures the module's weights as constants; it is redone when any tensor,
// submodule or function the module holds was replaced (loadWeights, fuse, a LoRA swapped in).
import { Tensor, compile, nn } from "@tessera/core";

// Every tensor, module and function `m` holds, depth first, its "_" fields (fused projections) too.
function holdings(m: nn.Module, out: unknown[]): unknown[] {
  const visit = (v: unknown): void => {
    if (v instanceof Tensor || typeof v === "function") out.push(v);
    else if (v instanceof nn.Module) {
      out.push(v);
      for (const x of Object.values(v)) visit(x);
    } else if (Array.isArray(v)) v.forEach(visit);
  };
  for (const x of Object.values(m)) visit(x);
  return out;
}

/** `fn` compiled for the step of `owner`, retraced when what `owner` holds changes. */
export class StepCompiler<A extends Tensor[], R> {
  #compiled?: (...args: A) => R;
  #held: unknown[] = [];

  constructor(private readonly owner: nn.Module, private readonly fn: (...args: A) => R) {}

  run(...args: A): R {
    const held = holdings(this.owner, []);
    if (!this.#compiled || held.length !== this.#held.length || held.some((h, i) => h !== this.#held[i])) {
      this.#compiled = compile(this.fn);
      this.#held = held;
    }
    return this.#compiled(...args);
  }
}
