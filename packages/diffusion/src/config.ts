// Reading config.json values with errors that name the file and the key.
import type { DType } from "@tessera/core";

/** A parsed config.json (diffusers' or transformers'). */
export type RawConfig = Record<string, unknown>;

/** Typed reads of one config object; `source` (usually the file's path) starts every error. */
export class ConfigReader {
  constructor(readonly raw: RawConfig, readonly source: string) {}

  #fail(key: string, what: string, v: unknown): never {
    throw new Error(`${this.source}: '${key}' must be ${what}, got ${JSON.stringify(v)}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** A positive integer (or the default when absent). */
  int(key: string, dflt?: number): number {
    const v = this.raw[key] ?? dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) this.#fail(key, "a positive integer", v);
    return v;
  }

  /** A finite number (or the default when absent). */
  num(key: string, dflt?: number): number {
    const v = this.raw[key] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v)) this.#fail(key, "a number", v);
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.raw[key] ?? dflt;
    if (typeof v !== "boolean") this.#fail(key, "true or false", v);
    return v;
  }

  str(key: string, dflt?: string): string {
    const v = this.raw[key] ?? dflt;
    if (typeof v !== "string") this.#fail(key, "a string", v);
    return v;
  }

  /** A string or null/absent. */
  optStr(key: string): string | null {
    const v = this.raw[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") this.#fail(key, "a string or null", v);
    return v;
  }

  strList(key: string, dflt?: string[]): string[] {
    const v = this.raw[key] ?? dflt;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) this.#fail(key, "a list of strings", v);
    return v as string[];
  }

  /** A list of positive integers, or one integer repeated `n` times. */
  intList(key: string, n: number, dflt?: number | number[]): number[] {
    const v = this.raw[key] ?? dflt;
    const list = typeof v === "number" ? Array<number>(n).fill(v) : v;
    if (!Array.isArray(list) || list.length !== n || !list.every((x) => Number.isInteger(x) && x > 0))
      this.#fail(key, `a positive integer or a list of ${n} of them`, v);
    return list as number[];
  }
}

/** The floating dtypes models load in. */
export type ModelDType = Extract<DType, "float32" | "float16" | "bfloat16">;

export function checkModelDType(dtype: unknown, op: string): ModelDType {
  if (dtype !== "float32" && dtype !== "float16" && dtype !== "bfloat16")
    throw new Error(`${op}: dtype must be "float32", "float16" or "bfloat16", got ${JSON.stringify(dtype)}`);
  return dtype;
}
