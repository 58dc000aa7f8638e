// Typed reads of GGUF metadata with errors that name the file and the key.
import type { io } from "@tessera/core";

type GGUFValue = io.GGUFValue;

/** Shortest decimal that reads back as the same float32 (GGUF stores epsilons etc. as float32). */
export function float32Decimal(v: number): number {
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

/** A GGUF file's metadata, read by key with type checks. */
export class GgufMetadata {
  constructor(
    readonly values: Readonly<Record<string, GGUFValue>>,
    readonly types: Readonly<Record<string, string>>,
    /** The file, for error messages. */
    readonly source: string,
  ) {}

  has(key: string): boolean {
    return key in this.values;
  }

  fail(message: string): never {
    throw new Error(`readGgufCheckpoint: ${this.source}: ${message}`);
  }

  private get(key: string): GGUFValue {
    if (!(key in this.values)) this.fail(`no metadata '${key}'`);
    return this.values[key];
  }

  str(key: string): string {
    const v = this.get(key);
    if (typeof v !== "string") this.fail(`metadata '${key}' must be a string, got ${this.types[key]}`);
    return v;
  }

  optStr(key: string): string | undefined {
    return this.has(key) ? this.str(key) : undefined;
  }

  /** A non-negative integer (any integer type). */
  int(key: string): number {
    const v = this.get(key);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) this.fail(`metadata '${key}' must be a non-negative integer, got ${describe(v)}`);
    return v;
  }

  optInt(key: string): number | undefined {
    return this.has(key) ? this.int(key) : undefined;
  }

  /** A number; float32 values come back as their shortest decimal (1e-6, not 9.99999997e-7). */
  num(key: string): number {
    const v = this.get(key);
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(`metadata '${key}' must be a number, got ${describe(v)}`);
    return this.types[key] === "float32" ? float32Decimal(v) : v;
  }

  optNum(key: string): number | undefined {
    return this.has(key) ? this.num(key) : undefined;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.get(key);
    if (typeof v !== "boolean") this.fail(`metadata '${key}' must be a bool, got ${describe(v)}`);
    return v;
  }

  strings(key: string): string[] {
    const v = this.get(key);
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) this.fail(`metadata '${key}' must be an array of strings`);
    return v as string[];
  }

  numbers(key: string): number[] {
    const v = this.get(key);
    if (!Array.isArray(v) || !v.every((s) => typeof s === "number")) this.fail(`metadata '${key}' must be an array of numbers`);
    return v as number[];
  }
}

function describe(v: GGUFValue): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v) : String(v);
}
