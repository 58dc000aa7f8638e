// Per-layer key/value caches, as mlx-lm's KVCache and RotatingKVCache. Keys and values are
// [B, Hkv, S, D] buffers preallocated in steps and written in place with sliceUpdate (the old
// tensor is disposed before the write is evaluated, so the buffer is donated: ARCHITECTURE.md
// "Layout"). A rotating cache keeps only a sliding window's last positions.
import {
  Tensor, astype, concatenate, keep, slice, sliceUpdate, zeros,
} from "@tessera/core";
import type { DType } from "@tessera/core";
import { windowMask } from "./models/base.js";

/** What attention reads after writing a step's keys and values. */
export interface CacheView {
  keys: Tensor;
  values: Tensor;
  /** "causal" (bottom-right aligned), an explicit bool mask [L, S], or null (one query sees all). */
  mask: "causal" | Tensor | null;
}

/** One attention layer's cache. */
export interface LayerCache {
  /** Positions written so far (the position of the next token). */
  readonly offset: number;
  /** Writes k / v [B, Hkv, L, D] (positions offset .. offset + L - 1) and returns what to attend to. */
  update(k: Tensor, v: Tensor): CacheView;
  /** The tensors it holds (to evaluate them together with a step). */
  state(): Tensor[];
  /** Releases the buffers; the cache is empty afterwards. */
  dispose(): void;
  /**
   * Forgets the last `n` positions (so a prompt cache can back up to a shared prefix); returns
   * false, changing nothing, when the cache cannot (a sliding window that has wrapped).
   */
  trim?(n: number): boolean;
}

function checkTrim(n: number, offset: number): void {
  if (!Number.isInteger(n) || n < 0 || n > offset) throw new Error(`trim: n must be an integer in [0, ${offset}], got ${String(n)}`);
}

export interface KVCacheOptions {
  /** Storage dtype (default float16; the attention kernels promote to the query's dtype). */
  dtype?: DType;
  /** Positions allocated at a time (default 256). */
  step?: number;
  /**
   * Store the full-attention layers' keys and values quantized to this many bits (mlx-lm's
   * QuantizedKVCache, `kv_bits`; 8 is the usual choice, 2-6 also work): MLX's affine quantization
   * per group of `kvGroupSize` features, scales and biases in `dtype`. Sliding-window layers keep a
   * float rotating cache (their size is bounded by the window). Default: not quantized.
   */
  kvBits?: number;
  /** Features per scale and bias of a quantized cache: 32, 64 (default) or 128; must divide head_dim. */
  kvGroupSize?: number;
}

/** Checks k / v [B, H, L, D] against each other and against what a cache holds (shared by the caches). */
export function checkKV(op: string, k: Tensor, v: Tensor, held?: Tensor, heldV?: Tensor): void {
  if (k.ndim !== 4 || v.ndim !== 4 || k.shape[0] !== v.shape[0] || k.shape[1] !== v.shape[1] || k.shape[2] !== v.shape[2])
    throw new Error(`${op}: keys and values must be [B, H, L, D] with the same B, H and L, got [${k.shape.join(", ")}] and [${v.shape.join(", ")}]`);
  if (held && heldV && (held.shape[0] !== k.shape[0] || held.shape[1] !== k.shape[1] || held.shape[3] !== k.shape[3] || heldV.shape[3] !== v.shape[3]))
    throw new Error(`${op}: new keys [${k.shape.join(", ")}] do not match the cached [${held.shape.join(", ")}]`);
}

// Replaces a held tensor: the new one escapes any tidy scope, the old handle is released so an
// in-place write can take its buffer.
export function swap(old: Tensor | undefined, next: Tensor): Tensor {
  if (old && old !== next) old.dispose();
  return keep(next);
}

/** Positions start .. stop of a [B, H, S, D] buffer. */
export function rows(t: Tensor, start: number, stop: number): Tensor {
  const [b, h, , d] = t.shape;
  return slice(t, [0, 0, start, 0], [b, h, stop, d]);
}

/** A growing cache for full-attention layers. */
export class KVCache implements LayerCache {
  keys?: Tensor;
  values?: Tensor;
  offset = 0;
  readonly dtype: DType;
  readonly step: number;

  constructor(opts: KVCacheOptions = {}) {
    this.dtype = opts.dtype ?? "float16";
    this.step = opts.step ?? 256;
    if (!Number.isInteger(this.step) || this.step <= 0) throw new Error(`KVCache: step must be a positive integer, got ${String(opts.step)}`);
  }

  update(k: Tensor, v: Tensor): CacheView {
    checkKV("KVCache.update", k, v, this.keys, this.values);
    const [b, h, l, d] = k.shape;
    const dv = v.shape[3];
    const end = this.offset + l;
    if (!this.keys || !this.values || end > this.keys.shape[2]) {
      const size = Math.ceil(end / this.step) * this.step;
      const grow = (t: Tensor | undefined, dim: number) => {
        const fresh = zeros([b, h, size - this.offset, dim], this.dtype);
        return t ? concatenate([rows(t, 0, this.offset), fresh], 2) : fresh;
      };
      this.keys = swap(this.keys, grow(this.keys, d));
      this.values = swap(this.values, grow(this.values, dv));
    }
    this.keys = swap(this.keys, sliceUpdate(this.keys, astype(k, this.dtype), [0, 0, this.offset, 0], [b, h, end, d]));
    this.values = swap(this.values, sliceUpdate(this.values, astype(v, this.dtype), [0, 0, this.offset, 0], [b, h, end, dv]));
    this.offset = end;
    return { keys: rows(this.keys, 0, end), values: rows(this.values, 0, end), mask: l > 1 ? "causal" : null };
  }

  state(): Tensor[] {
    return this.keys && this.values ? [this.keys, this.values] : [];
  }

  dispose(): void {
    this.keys?.dispose();
    this.values?.dispose();
    this.keys = this.values = undefined;
    this.offset = 0;
  }

  trim(n: number): boolean {
    checkTrim(n, this.offset);
    this.offset -= n;
    return true;
  }
}

/**
 * A cache for sliding-window layers: holds the last `maxSize` positions (the window). One-token
 * steps overwrite the oldest slot in place; longer chunks (prefill) attend to the previous
 * window-1 positions plus themselves under a window mask, then keep the last `maxSize`.
 */
export class RotatingKVCache implements LayerCache {
  keys?: Tensor;
  values?: Tensor;
  offset = 0;
  readonly maxSize: number;
  readonly dtype: DType;
  readonly step: number;
  // Next slot to write; the buffer is in temporal order from _idx on (wrapping).
  _idx = 0;

  constructor(maxSize: number, opts: KVCacheOptions = {}) {
    if (!Number.isInteger(maxSize) || maxSize <= 0) throw new Error(`RotatingKVCache: maxSize must be a positive integer, got ${String(maxSize)}`);
    this.maxSize = maxSize;
    this.dtype = opts.dtype ?? "float16";
    this.step = opts.step ?? 256;
  }

  update(k: Tensor, v: Tensor): CacheView {
    checkKV("RotatingKVCache.update", k, v, this.keys, this.values);
    return k.shape[2] === 1 ? this.#inPlace(k, v) : this.#concat(k, v);
  }

  // The held positions, oldest first.
  #temporal(t: Tensor): Tensor {
    const n = t.shape[2];
    if (this._idx === n || this.offset < this.maxSize) return rows(t, 0, Math.min(n, this._idx));
    return concatenate([rows(t, this._idx, n), rows(t, 0, this._idx)], 2);
  }

  #concat(k: Tensor, v: Tensor): CacheView {
    const l = k.shape[2];
    const keepOld = this.maxSize - 1;
    const join = (held: Tensor | undefined, x: Tensor) => {
      x = astype(x, this.dtype);
      if (!held) return x;
      const old = this.#temporal(held);
      const n = old.shape[2];
      return concatenate([n > keepOld ? rows(old, n - keepOld, n) : old, x], 2);
    };
    const keys = join(this.keys, k), values = join(this.values, v);
    const s = keys.shape[2];
    const mask = windowMask(l, s, this.offset, this.maxSize);
    const last = (t: Tensor) => (s > this.maxSize ? rows(t, s - this.maxSize, s) : t);
    this.keys = swap(this.keys, last(keys));
    this.values = swap(this.values, last(values));
    this._idx = this.keys.shape[2];
    this.offset += l;
    return { keys, values, mask };
  }

  #inPlace(k: Tensor, v: Tensor): CacheView {
    const [b, h, , d] = k.shape;
    const dv = v.shape[3];
    const held = this.keys?.shape[2] ?? 0;
    if (!this.keys || !this.values || (this._idx >= held && held < this.maxSize)) {
      const size = Math.min(this.maxSize - held, this.step);
      const grow = (t: Tensor | undefined, dim: number) => {
        const fresh = zeros([b, h, size, dim], this.dtype);
        return t ? concatenate([t, fresh], 2) : fresh;
      };
      this.keys = swap(this.keys, grow(this.keys, d));
      this.values = swap(this.values, grow(this.values, dv));
    }
    if (this._idx === this.maxSize) this._idx = 0;
    const i = this._idx;
    this.keys = swap(this.keys, sliceUpdate(this.keys, astype(k, this.dtype), [0, 0, i, 0], [b, h, i + 1, d]));
    this.values = swap(this.values, sliceUpdate(this.values, astype(v, this.dtype), [0, 0, i, 0], [b, h, i + 1, dv]));
    this.offset += 1;
    this._idx += 1;
    // Until the window is full only the first offset slots are written; then every slot is in the window.
    const n = Math.min(this.offset, this.maxSize);
    return { keys: rows(this.keys, 0, n), values: rows(this.values, 0, n), mask: null };
  }

  state(): Tensor[] {
    return this.keys && this.values ? [this.keys, this.values] : [];
  }

  dispose(): void {
    this.keys?.dispose();
    this.values?.dispose();
    this.keys = this.values = undefined;
    this.offset = 0;
    this._idx = 0;
  }

  /** Possible while the window has not wrapped (the buffer is still in temporal order from slot 0). */
  trim(n: number): boolean {
    checkTrim(n, this.offset);
    if (this.offset > this.maxSize) return false;
    this.offset -= n;
    this._idx -= n;
    return true;
  }
}
