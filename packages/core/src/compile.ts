// compile(fn), as MLX's mx.compile: fn is traced once per input signature (shapes, dtypes and the
// non-tensor arguments) on placeholder inputs; later calls replay the captured graph natively with
// chains of elementwise ops fused into single kernels.
import { native } from "./native.js";
import type { NativeTensor } from "./native.js";
import { Tensor } from "./tensor.js";

/** A compiled graph: an opaque native handle. */
type NativeGraph = object;

interface CompileNative {
  compilePlaceholder(shape: readonly number[], dtype: string): NativeTensor;
  compileBuild(inputs: NativeTensor[], outputs: NativeTensor[], fuse: boolean): NativeGraph;
  compileRun(graph: NativeGraph, inputs: NativeTensor[]): NativeTensor[];
  compileInfo(graph: NativeGraph): GraphInfo;
}
const addon = native as unknown as CompileNative;

/** What one trace of a compiled function became (for diagnostics and tests). */
export interface GraphInfo {
  /** Nodes between the inputs and the outputs in the trace. */
  tracedNodes: number;
  /** Nodes each call builds. */
  steps: number;
  /** How many of those are fused elementwise kernels, and how many traced nodes they replace. */
  fused: number;
  fusedOps: number;
  /** Arrays that do not depend on the inputs, kept as they are. */
  constants: number;
  /** One line per step, e.g. "Fused[add>exp>multiply] [4, 8] float32". */
  nodes: string[];
}

export interface CompileStats {
  /** How many times fn was traced (once per distinct input signature). */
  traces: number;
  /** Calls answered by replaying a cached trace. */
  replays: number;
  /** The graph of each cached signature. */
  graphs: GraphInfo[];
}

let enabled = true;

/** Makes compile(fn) return functions that call fn directly (for debugging). */
export function disableCompile(): void {
  enabled = false;
}
/** Undoes disableCompile(). */
export function enableCompile(): void {
  enabled = true;
}

interface Entry {
  graph: NativeGraph;
  /** fn's result with each output tensor replaced by its index into the graph's outputs. */
  template: unknown;
}

class OutputSlot {
  constructor(readonly index: number) {}
}

const MAX_SIGNATURES = 64;
const statsOf = new WeakMap<object, () => CompileStats>();

/**
 * Compiles `fn`, as MLX's `mx.compile`. The first call for a given signature (the shapes and
 * dtypes of the tensor arguments and the values of the others) traces fn on placeholder tensors;
 * later calls with that signature rebuild the captured graph in one native call, without running
 * fn again, with maximal chains of elementwise ops fused into one kernel that makes a single pass
 * over memory. Results equal fn's own.
 *
 * Arguments may be tensors, numbers, strings, booleans, null/undefined, and arrays or plain
 * objects of these. fn must be pure and synchronous: it must not read tensor data (item(),
 * data()), and tensors it closes over are captured as constants at the first trace (reassigning
 * such a variable later is not seen). It may return a tensor, or arrays/plain objects of them.
 */
export function compile<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  if (typeof fn !== "function") throw new Error(`compile() takes a function, got ${typeof fn}`);
  const cache = new Map<string, Entry>();
  let traces = 0;
  let replays = 0;
  const compiled = (...args: A): R => {
    if (!enabled) return fn(...args);
    const inputs: Tensor[] = [];
    const key = signature(args, inputs);
    let entry = cache.get(key);
    if (entry) replays++;
    else {
      entry = trace(fn, args);
      traces++;
      if (cache.size >= MAX_SIGNATURES) cache.delete(cache.keys().next().value as string);
      cache.set(key, entry);
    }
    const outs = addon.compileRun(entry.graph, inputs.map((t) => t.handle)).map((h) => new Tensor(h));
    return fill(entry.template, outs) as R;
  };
  statsOf.set(compiled, () => ({ traces, replays, graphs: [...cache.values()].map((e) => addon.compileInfo(e.graph)) }));
  return compiled;
}

/** Trace and replay counts and the captured graphs of a function made by compile(). */
export function compileStats(compiled: (...args: never[]) => unknown): CompileStats {
  const get = statsOf.get(compiled);
  if (!get) throw new Error("compileStats() takes a function returned by compile()");
  return get();
}

function trace<A extends unknown[], R>(fn: (...args: A) => R, args: A): Entry {
  const placeholders: Tensor[] = [];
  const traceArgs = mapTensors(args, (t) => {
    const p = new Tensor(addon.compilePlaceholder(t.shape, t.dtype));
    placeholders.push(p);
    return p;
  }) as A;
  try {
    let result: R;
    try {
      result = fn(...traceArgs);
    } catch (e) {
      if (e instanceof Error && /placeholder/.test(e.message))
        throw new Error("compile: fn read tensor data while being traced (item(), data(), dataSync(), eval); " +
          "a compiled function must only build the graph: read results outside it", { cause: e });
      throw e;
    }
    if (result instanceof Promise) throw new Error("compile() takes a synchronous function; fn returned a Promise");
    const outputs: Tensor[] = [];
    const template = mapTensors(result, (t) => {
      outputs.push(t);
      return new OutputSlot(outputs.length - 1);
    });
    const graph = addon.compileBuild(placeholders.map((p) => p.handle), outputs.map((t) => t.handle), true);
    return { graph, template };
  } finally {
    // The graph keeps the traced nodes natively; the JS handles of the placeholders are not needed.
    for (const p of placeholders) p.dispose();
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype;
}

/** The cache key of an argument list; collects its tensors (depth first) into `tensors`. */
function signature(args: readonly unknown[], tensors: Tensor[]): string {
  const part = (x: unknown, where: string): string => {
    if (x instanceof Tensor) {
      tensors.push(x);
      return `T${x.shape.join(",")}:${x.dtype}`;
    }
    switch (typeof x) {
      case "number": return Object.is(x, -0) ? "n-0" : `n${x}`;
      case "string": return `s${JSON.stringify(x)}`;
      case "boolean": return x ? "b1" : "b0";
      case "undefined": return "u";
    }
    if (x === null) return "z";
    if (Array.isArray(x)) return `[${x.map((v, i) => part(v, `${where}[${i}]`)).join(";")}]`;
    if (isPlainObject(x))
      return `{${Object.keys(x).map((k) => `${JSON.stringify(k)}:${part(x[k], `${where}.${k}`)}`).join(";")}}`;
    const what = typeof x === "object" ? (x as object).constructor?.name ?? "object" : typeof x;
    throw new Error(`compile: ${where} is a ${what}; compiled functions take tensors, numbers, strings, booleans, ` +
      "null/undefined, and arrays or plain objects of them");
  };
  return args.map((a, i) => part(a, `argument ${i}`)).join("|");
}

/** A copy of `x` with every tensor replaced by f(tensor); other leaves are kept. */
function mapTensors(x: unknown, f: (t: Tensor) => unknown): unknown {
  if (x instanceof Tensor) return f(x);
  if (Array.isArray(x)) return x.map((v) => mapTensors(v, f));
  if (isPlainObject(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, mapTensors(v, f)]));
  return x;
}

function fill(template: unknown, outs: Tensor[]): unknown {
  if (template instanceof OutputSlot) return outs[template.index];
  if (Array.isArray(template)) return template.map((v) => fill(v, outs));
  if (isPlainObject(template)) return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fill(v, outs)]));
  return template;
}
