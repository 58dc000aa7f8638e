// Evaluation: computes pending graphs on a worker thread (eval) or on this one (evalSync).
import { native } from "./native.js";
import { Tensor } from "./tensor.js";

type Tree = Tensor | readonly Tree[] | { readonly [k: string]: Tree } | null | undefined | number | string | boolean;

function collect(args: readonly Tree[]): Tensor[] {
  const out: Tensor[] = [];
  const walk = (x: Tree): void => {
    if (x instanceof Tensor) out.push(x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === "object") Object.values(x).forEach(walk);
  };
  args.forEach(walk);
  return out;
}

/** Computes every tensor in the arguments (nested arrays and objects too) without blocking the event loop. */
export async function evaluate(...args: Tree[]): Promise<void> {
  const ts = collect(args).filter((t) => !t.handle.evaluated());
  if (ts.length) await native.eval(ts.map((t) => t.handle));
}

/** As eval(), on the calling thread (for scripts). */
export function evalSync(...args: Tree[]): void {
  const ts = collect(args).filter((t) => !t.handle.evaluated());
  if (ts.length) native.evalSync(ts.map((t) => t.handle));
}

export { evaluate as eval };
