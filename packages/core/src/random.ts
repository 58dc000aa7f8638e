// Counter-based random numbers, as in JAX and MLX.
//
// A key is a uint32 tensor of shape [2]. Every draw reads the key's stream of 32-bit words: word
// 2b and 2b + 1 are the two outputs of Threefry-2x32 (20 rounds, bit-exact with Random123 and JAX's
// threefry_2x32) of the counter pair (b mod 2^32, floor(b / 2^32)), and element i of a draw (row-
// major) is made from word i alone. Hence, for a given key:
//  - results do not depend on the thread count or on how the work is chunked;
//  - a draw depends on its shape only through the element count: uniform([2, 3]) equals
//    uniform([6]) reshaped, and the first N elements of a draw of 2N equal a draw of N;
//  - different keys (e.g. the rows of split()) give unrelated streams.
// Without a `key` option the functions draw from a default key kept in this module (the one
// piece of module state here, two uint32 words): each call splits it in two, keeps one half as the
// new default and uses the other, as MLX does. It is seeded from the clock when first used;
// seed(n) resets it to key(n).
import { checkDType, isFloating } from "./dtype.js";
import type { DType } from "./dtype.js";
import { callOp, Tensor, tensor } from "./tensor.js";
import { less } from "./ops/elementwise.js";

let defaultKey: [number, number] | undefined;

/** A key from an integer seed in [0, 2^53): [floor(seed / 2^32), seed mod 2^32], as JAX and MLX. */
export function key(seed: number): Tensor {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`random.key: seed must be a non-negative integer below 2^53, got ${String(seed)}`);
  return tensor(Uint32Array.from(seedWords(seed)));
}

/** Resets the default key (used when no `key` option is given) to key(n). */
export function seed(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`random.seed: seed must be a non-negative integer below 2^53, got ${String(n)}`);
  defaultKey = seedWords(n);
}

/** `num` new keys from `key`, as a uint32 tensor [num, 2] (row j is word 2j, 2j + 1 of key's stream). */
export function split(key: Tensor, num = 2): Tensor {
  if (!Number.isInteger(num) || num < 1) throw new Error(`random.split: num must be a positive integer, got ${String(num)}`);
  return callOp("randomBits", [checkKey(key, "random.split")], { shape: [num, 2] });
}

/**
 * Threefry-2x32 with 20 rounds applied to explicit counters: `counts` is uint32 [..., 2] and each
 * pair (c0, c1) becomes the hashed pair. Bit-exact with JAX's `threefry_2x32` for one pair.
 */
export function threefry2x32(key: Tensor, counts: Tensor): Tensor {
  return callOp("randomThreefry", [checkKey(key, "random.threefry2x32"), counts]);
}

/** Raw uint32 words of the key's stream. */
export function bits(shape: readonly number[], opts: { key?: Tensor } = {}): Tensor {
  return callOp("randomBits", [keyOrNext(opts.key, "random.bits")], { shape: checkShape(shape, "random.bits") });
}

export interface UniformOptions {
  low?: number;
  high?: number;
  dtype?: DType;
  key?: Tensor;
}

/**
 * Uniform samples in [low, high) (default [0, 1)). Each is made from the top 23 bits of its word
 * (the mantissa of a float in [1, 2)), so 2^23 equally spaced values; half dtypes are generated in
 * float32, cast, and still kept below `high`.
 */
export function uniform(shape: readonly number[] = [], opts: UniformOptions = {}): Tensor {
  const op = "random.uniform";
  const { low = 0, high = 1 } = opts;
  if (typeof low !== "number" || typeof high !== "number" || !(low < high))
    throw new Error(`${op}: low and high must be numbers with low < high, got low = ${String(low)}, high = ${String(high)}`);
  return callOp("randomUniform", [keyOrNext(opts.key, op)], {
    shape: checkShape(shape, op), low, high, dtype: floatDType(opts.dtype, op),
  });
}

export interface NormalOptions {
  loc?: number;
  scale?: number;
  dtype?: DType;
  key?: Tensor;
}

/**
 * Normal samples with mean `loc` and standard deviation `scale`, by inverse erf (as JAX and MLX):
 * the top 23 bits of each word give u on the midpoints of 2^23 equal cells of (-1, 1) and the
 * sample is loc + scale * sqrt(2) * erfinv(u); so |sample - loc| <= 5.3 scale. Halves are
 * generated in float32 and cast.
 */
export function normal(shape: readonly number[] = [], opts: NormalOptions = {}): Tensor {
  const op = "random.normal";
  const { loc = 0, scale = 1 } = opts;
  if (typeof loc !== "number" || !Number.isFinite(loc)) throw new Error(`${op}: loc must be a finite number, got ${String(loc)}`);
  if (typeof scale !== "number" || !Number.isFinite(scale) || scale < 0)
    throw new Error(`${op}: scale must be a finite non-negative number, got ${String(scale)}`);
  return callOp("randomNormal", [keyOrNext(opts.key, op)], {
    shape: checkShape(shape, op), loc, scale, dtype: floatDType(opts.dtype, op),
  });
}

export interface CategoricalOptions {
  axis?: number;
  /** Draws this many samples per distribution, on a new last axis of the result. */
  numSamples?: number;
  key?: Tensor;
}

/**
 * Class indices drawn from softmax(logits) along `axis` (unnormalized log-probabilities; -Infinity
 * excludes a class), by the Gumbel-max trick in one fused kernel: argmax(logits + g) with
 * g = -log(-log(u)). Returns int32 of logits' shape without `axis`, plus a trailing axis of
 * `numSamples` when given. The noise is the draw of shape result.shape + [classes].
 */
export function categorical(logits: Tensor, opts: CategoricalOptions = {}): Tensor {
  const op = "random.categorical";
  if (!(logits instanceof Tensor)) throw new Error(`${op}: logits must be a Tensor`);
  const { axis = -1, numSamples } = opts;
  if (!Number.isInteger(axis)) throw new Error(`${op}: axis must be an integer, got ${String(axis)}`);
  if (numSamples !== undefined && (!Number.isInteger(numSamples) || numSamples < 0))
    throw new Error(`${op}: numSamples must be a non-negative integer, got ${String(numSamples)}`);
  return callOp("randomCategorical", [logits, keyOrNext(opts.key, op)], { axis, numSamples: numSamples ?? -1 });
}

export interface BernoulliOptions {
  /** The result's shape; p must broadcast to it. Default: p's shape. */
  shape?: readonly number[];
  key?: Tensor;
}

/** Booleans that are true with probability p (a number or a tensor of probabilities): uniform < p. */
export function bernoulli(p: number | Tensor = 0.5, opts: BernoulliOptions = {}): Tensor {
  const op = "random.bernoulli";
  if (typeof p === "number") {
    if (!(p >= 0 && p <= 1)) throw new Error(`${op}: p must be in [0, 1], got ${p}`);
  } else if (!(p instanceof Tensor)) {
    throw new Error(`${op}: p must be a number or a Tensor`);
  }
  const pShape = typeof p === "number" ? [] : [...p.shape];
  const shape = opts.shape === undefined ? pShape : checkShape(opts.shape, op);
  const lead = shape.length - pShape.length;
  if (lead < 0 || pShape.some((d, i) => d !== 1 && d !== shape[lead + i]))
    throw new Error(`${op}: p of shape [${pShape.join(", ")}] does not broadcast to shape [${shape.join(", ")}]`);
  return less(uniform(shape, { key: opts.key }), p);
}

function checkKey(key: unknown, op: string): Tensor {
  if (!(key instanceof Tensor)) throw new Error(`${op}: key must be a Tensor from random.key() or random.split()`);
  if (key.dtype !== "uint32" || key.shape.length !== 1 || key.shape[0] !== 2)
    throw new Error(`${op}: key must be a uint32 tensor of shape [2] (from random.key() or random.split()), got ${key.dtype} [${key.shape.join(", ")}]`);
  return key;
}

function keyOrNext(k: Tensor | undefined, op: string): Tensor {
  return k === undefined ? nextKey() : checkKey(k, op);
}

// The default key lives in JS as two words and is split here with the same hash the native
// stream uses (threefry2x32 of counters (0, 0) and (1, 0), i.e. split(key)[0] and [1]), so no
// graph chain grows across calls and no evaluation is needed.
function nextKey(): Tensor {
  defaultKey ??= seedWords(Date.now());
  const [k0, k1] = defaultKey;
  defaultKey = threefryJs(k0, k1, 0, 0);
  return tensor(Uint32Array.from(threefryJs(k0, k1, 1, 0)));
}

function seedWords(seed: number): [number, number] {
  return [Math.floor(seed / 2 ** 32) >>> 0, seed % 2 ** 32 >>> 0];
}

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];

// Threefry-2x32, 20 rounds, on one counter pair (the native kernel's algorithm, for the default key).
function threefryJs(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (0x1bd11bda ^ k0 ^ k1) >>> 0];
  let x0 = (c0 + ks[0]) >>> 0;
  let x1 = (c1 + ks[1]) >>> 0;
  for (let g = 0; g < 5; g++) {
    for (let j = 0; j < 4; j++) {
      const r = ROTATIONS[(g & 1) * 4 + j];
      x0 = (x0 + x1) >>> 0;
      x1 = (((x1 << r) | (x1 >>> (32 - r))) ^ x0) >>> 0;
    }
    x0 = (x0 + ks[(g + 1) % 3]) >>> 0;
    x1 = (x1 + ks[(g + 2) % 3] + g + 1) >>> 0;
  }
  return [x0, x1];
}

function checkShape(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new Error(`${op}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  return [...(shape as number[])];
}

function floatDType(dtype: DType | undefined, op: string): DType {
  const dt = checkDType(dtype ?? "float32", `${op}: dtype`);
  if (!isFloating(dt)) throw new Error(`${op}: dtype must be float32, float16 or bfloat16, got ${dt}`);
  return dt;
}
