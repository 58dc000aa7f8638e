// Module: a tree of parameters (Tensors) and child Modules held in attributes, walked by name, as
// MLX's nn.Module. Attribute names are checkpoint key names, so loading weights is a tree walk:
// "layers.0.attn.q_proj.weight" is this.layers[0].attn.q_proj.weight.
import { Tensor } from "../tensor.js";

/** Parameters as nested objects and arrays mirroring the module tree. */
export type ParameterTree = { [key: string]: Tensor | ParameterTree | ParameterTree[] | Tensor[] };

/** The weights loadWeights accepts: a flat name -> Tensor record or map, or [name, Tensor] pairs. */
export type WeightMap = Record<string, Tensor> | Map<string, Tensor> | readonly (readonly [string, Tensor])[];

export interface LoadWeightsOptions {
  /** Fail on missing and unexpected keys (default true). Shape mismatches always fail. */
  strict?: boolean;
}

// A parameter found by the walk: its dotted name, value, and how to replace it in its holder.
interface Slot {
  name: string;
  value: Tensor;
  owner: Module;
  set(t: Tensor): void;
}

// Values the walk descends into: Modules, Tensors, and arrays / plain objects of them.
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

function formatShape(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

export class Module {
  // Local parameter names excluded from trainableParameters() (a JS private field: never walked).
  #frozen = new Set<string>();

  /**
   * Visits parameters and child modules below `prefix` in attribute order. Attributes whose names
   * start with "_" are private (as in MLX) and skipped.
   */
  #walk(prefix: string, onParam: (s: Slot) => void, onModule?: (name: string, m: Module) => void): void {
    const visit = (value: unknown, name: string, set: (t: Tensor) => void): void => {
      if (value instanceof Tensor) {
        onParam({ name, value, owner: this, set });
      } else if (value instanceof Module) {
        onModule?.(name, value);
        value.#walk(name, onParam, onModule);
      } else if (Array.isArray(value)) {
        value.forEach((v, i) => visit(v, `${name}.${i}`, (t) => { value[i] = t; }));
      } else if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) visit(v, `${name}.${k}`, (t) => { value[k] = t; });
      }
    };
    const self = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(this)) {
      if (!key.startsWith("_")) visit(value, prefix ? `${prefix}.${key}` : key, (t) => { self[key] = t; });
    }
  }

  #slots(): Slot[] {
    const out: Slot[] = [];
    this.#walk("", (s) => out.push(s));
    return out;
  }

  /** Every parameter, as a nested object mirroring the attributes (arrays stay arrays). */
  parameters(): ParameterTree {
    return treeOf(this, () => true);
  }

  /** The parameters not frozen, as a nested object. */
  trainableParameters(): ParameterTree {
    return treeOf(this, (m, key) => !m.#frozen.has(key));
  }

  /** Every parameter by its dotted name ("layers.0.weight"), in attribute order. */
  namedParameters(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const s of this.#slots()) out[s.name] = s.value;
    return out;
  }

  /**
   * Replaces parameters with the given tensors by dotted name. With `strict` (the default) every
   * parameter must be given and no other name may appear; shapes must always match. One Error names
   * every missing key, unexpected key and shape mismatch. Loaded tensors keep their own dtype (cast
   * with `apply` or `astype` first to change it), so float16 checkpoints stay float16.
   */
  loadWeights(weights: WeightMap, opts: LoadWeightsOptions = {}): this {
    const strict = opts.strict ?? true;
    const entries: (readonly [string, Tensor])[] =
      weights instanceof Map ? [...weights.entries()] : Array.isArray(weights) ? [...weights] : Object.entries(weights);
    const slots = new Map(this.#slots().map((s) => [s.name, s]));
    const given = new Set<string>();
    const unexpected: string[] = [];
    const mismatched: string[] = [];
    for (const [name, t] of entries) {
      if (!(t instanceof Tensor)) throw new Error(`loadWeights: the value of '${name}' is not a Tensor`);
      given.add(name);
      const slot = slots.get(name);
      if (!slot) {
        unexpected.push(name);
        continue;
      }
      if (slot.value.shape.length !== t.shape.length || slot.value.shape.some((d, i) => d !== t.shape[i]))
        mismatched.push(`'${name}' expects shape ${formatShape(slot.value.shape)} but the weight has ${formatShape(t.shape)}`);
    }
    const missing = strict ? [...slots.keys()].filter((n) => !given.has(n)) : [];
    const problems: string[] = [];
    if (missing.length) problems.push(`missing keys: ${missing.join(", ")}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(", ")}`);
    if (mismatched.length) problems.push(`shape mismatch: ${mismatched.join("; ")}`);
    if (problems.length) throw new Error(`loadWeights (${this.constructor.name}): ${problems.join(". ")}`);
    for (const [name, t] of entries) slots.get(name)?.set(t);
    return this;
  }

  /**
   * Replaces parameters from a nested object shaped like parameters() (a subset is fine). Throws on a
   * name that is not a parameter, or a shape change.
   */
  update(tree: ParameterTree): this {
    const flat: [string, Tensor][] = [];
    const flatten = (v: unknown, name: string): void => {
      if (v instanceof Tensor) flat.push([name, v]);
      else if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${name}.${i}`));
      else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) flatten(x, name ? `${name}.${k}` : k);
      else throw new Error(`update: '${name}' must be a Tensor, an array or an object`);
    };
    flatten(tree, "");
    const names = new Set(this.#slots().map((s) => s.name));
    const unknown = flat.filter(([n]) => !names.has(n)).map(([n]) => n);
    if (unknown.length) throw new Error(`update (${this.constructor.name}): not parameters of this module: ${unknown.join(", ")}`);
    return this.loadWeights(flat, { strict: false });
  }

  /** Replaces every parameter p (named `name`) with fn(p, name), e.g. to cast: m.apply((p) => p.astype("float16")). */
  apply(fn: (p: Tensor, name: string) => Tensor): this {
    for (const s of this.#slots()) {
      const t = fn(s.value, s.name);
      if (!(t instanceof Tensor)) throw new Error(`apply: the function returned a non-Tensor for '${s.name}'`);
      s.set(t);
    }
    return this;
  }

  /**
   * Freezes parameters: all of them (this module's and, with `recurse`, its children's) or only the
   * local ones named in `keys`. Frozen parameters are left out of trainableParameters().
   */
  freeze(opts: { keys?: string | string[]; recurse?: boolean } = {}): this {
    this.#setFrozen(true, opts);
    return this;
  }

  /** Undoes freeze() with the same options. */
  unfreeze(opts: { keys?: string | string[]; recurse?: boolean } = {}): this {
    this.#setFrozen(false, opts);
    return this;
  }

  #setFrozen(frozen: boolean, opts: { keys?: string | string[]; recurse?: boolean }): void {
    const keys = opts.keys === undefined ? undefined : typeof opts.keys === "string" ? [opts.keys] : opts.keys;
    const targets = opts.recurse ?? true ? this.modules() : [this];
    for (const m of targets) {
      const local = m.#localParameterKeys();
      for (const k of keys ?? local) {
        if (m === this && keys && !local.includes(k))
          throw new Error(`freeze: '${k}' is not a parameter of this ${this.constructor.name} (has: ${local.join(", ") || "none"})`);
        if (!local.includes(k)) continue;
        if (frozen) m.#frozen.add(k);
        else m.#frozen.delete(k);
      }
    }
  }

  // Attribute names of this module that hold parameters (directly or in arrays/objects).
  #localParameterKeys(): string[] {
    const keys = new Set<string>();
    this.#walk("", (s) => { if (s.owner === this) keys.add(s.name.split(".")[0]); });
    return [...keys];
  }

  /** The direct child modules with their names (elements of arrays as "layers.0"). */
  children(): [string, Module][] {
    const out: [string, Module][] = [];
    const visit = (v: unknown, name: string): void => {
      if (v instanceof Module) out.push([name, v]);
      else if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${name}.${i}`));
      else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) visit(x, `${name}.${k}`);
    };
    for (const [k, v] of Object.entries(this)) if (!k.startsWith("_")) visit(v, k);
    return out;
  }

  /** This module and every descendant, depth first, with dotted names ("" for this one). */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [["", this]];
    this.#walk("", () => {}, (name, m) => out.push([name, m]));
    return out;
  }

  /** This module and every descendant, depth first. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  toString(): string {
    return `${this.constructor.name}(${Object.keys(this.namedParameters()).length} parameters)`;
  }
}

// Nested object of the parameters of m that `keep(owner, localKey)` accepts; empty branches dropped.
function treeOf(m: Module, keep: (owner: Module, key: string) => boolean): ParameterTree {
  const build = (v: unknown, owner: Module, key: string): unknown => {
    if (v instanceof Tensor) return keep(owner, key) ? v : undefined;
    if (v instanceof Module) {
      const sub: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith("_")) continue;
        const b = build(x, v, k);
        if (b !== undefined) sub[k] = b;
      }
      return Object.keys(sub).length ? sub : undefined;
    }
    if (Array.isArray(v)) {
      const arr = v.map((x) => build(x, owner, key));
      return arr.some((x) => x !== undefined) ? arr.map((x) => x ?? {}) : undefined;
    }
    if (isPlainObject(v)) {
      const sub: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const b = build(x, owner, key);
        if (b !== undefined) sub[k] = b;
      }
      return Object.keys(sub).length ? sub : undefined;
    }
    return undefined;
  };
  return (build(m, m, "") as ParameterTree | undefined) ?? {};
}
