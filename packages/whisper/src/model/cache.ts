// The decoder's key/value cache for incremental decoding and beam search. Memory is bounded by the
// model, not by the beams or the steps:
// - self-attention keys/values live in one preallocated buffer per layer [B, H, capacity, D]; each
//   step writes its rows in place (sliceUpdate on a buffer nothing else holds) and attention reads a
//   view of the filled part;
// - cross-attention keys/values are computed once per audio row and shared by every beam of that
//   audio (attention folds the beams into the query axis; they are never copied per beam);
// - reorder() (beam search) gathers each buffer's rows along the batch axis into a buffer of the
//   same size (the allocator recycles the one released the step before).
import { Tensor, keep, slice, sliceUpdate, take, tensor, tidy, zeros } from "@tessera/core";

/** Keys and values of one attention layer, split into heads: [B, H, S, D]. */
export interface KeyValue {
  k: Tensor;
  v: Tensor;
}

// Buffers grow by whole blocks of positions (most windows decode well under the text context).
const BLOCK = 64;

/**
 * The decoder's key/value cache for one batch of token rows. `TextDecoder.forward` appends to it;
 * the cross-attention keys/values are computed on the first call, once per audio row: token rows
 * `[a * G, (a + 1) * G)` (G = rows / audio rows) share audio row `a`'s.
 */
export class DecoderCache {
  readonly nLayer: number;
  /** The most positions the cache can hold (the model's text context). */
  readonly maxLength: number;
  #self: (KeyValue | undefined)[];
  #cross: (KeyValue | undefined)[];
  #offset = 0;
  #capacity = 0;

  constructor(nLayer: number, maxLength = 448) {
    this.nLayer = nLayer;
    this.maxLength = maxLength;
    this.#self = Array.from({ length: nLayer }, () => undefined);
    this.#cross = Array.from({ length: nLayer }, () => undefined);
  }

  /** Tokens decoded so far (the position of the next one). */
  get offset(): number {
    return this.#offset;
  }

  /** Token rows (the batch of the self-attention keys/values), 0 before the first call. */
  get rows(): number {
    return this.#self[0]?.k.shape[0] ?? 0;
  }

  /** Positions the buffers hold now (they grow by blocks up to maxLength). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Layer i's cross-attention keys/values [audio rows, H, n_audio_ctx, D], once computed. */
  cross(i: number): KeyValue | undefined {
    return this.#cross[i];
  }

  /** Sets layer i's cross-attention keys/values (kept past any tidy scope; the cache owns them). */
  setCross(i: number, kv: KeyValue): void {
    this.#disposeKv(this.#cross[i]);
    this.#cross[i] = { k: keep(kv.k), v: keep(kv.v) };
  }

  /** The filled part of layer i's self-attention keys/values [rows, H, offset, D] (views). */
  self(i: number): KeyValue | undefined {
    const kv = this.#self[i];
    return kv && { k: this.#filled(kv.k, this.#offset), v: this.#filled(kv.v, this.#offset) };
  }

  /**
   * Writes layer i's new keys/values [rows, H, L, D] at the current offset and returns views of
   * positions [0, offset + L). Call advance(L) once every layer has appended.
   */
  append(i: number, kv: KeyValue): KeyValue {
    const [b, h, l, d] = kv.k.shape;
    const end = this.#offset + l;
    if (end > this.maxLength) throw new Error(`DecoderCache: ${end} positions exceed the cache's ${this.maxLength}`);
    if (this.rows && b !== this.rows) throw new Error(`DecoderCache: ${b} token rows, but the cache holds ${this.rows}`);
    if (end > this.#capacity) this.#grow(end);
    const buf = this.#self[i] ?? {
      k: keep(zeros([b, h, this.#capacity, d], kv.k.dtype)),
      v: keep(zeros([b, h, this.#capacity, kv.v.shape[3]], kv.v.dtype)),
    };
    const start = [0, 0, this.#offset, 0];
    const next = { k: keep(sliceUpdate(buf.k, kv.k, start)), v: keep(sliceUpdate(buf.v, kv.v, start)) };
    // Dropping the old handles lets sliceUpdate write into their buffers (nothing else holds them).
    this.#disposeKv(buf);
    this.#self[i] = next;
    return { k: this.#filled(next.k, end), v: this.#filled(next.v, end) };
  }

  /** Moves the offset past the `length` positions every layer appended. */
  advance(length: number): void {
    this.#offset += length;
  }

  /**
   * Keeps the token rows `indices` (e.g. the surviving beams), in that order. Self-attention rows
   * are gathered into same-size buffers; shared cross-attention keys/values stay as they are, so each index must
   * stay within its row's audio group (as beam search's do).
   */
  reorder(indices: readonly number[] | Tensor): void {
    const list = indices instanceof Tensor ? (indices.tolist() as number[]) : [...indices];
    const rows = this.rows;
    if (!rows) return;
    if (list.some((j) => !Number.isInteger(j) || j < -rows || j >= rows))
      throw new Error(`DecoderCache.reorder: indices must be integers in [-${rows}, ${rows}), got [${list.join(", ")}]`);
    const same = list.length === rows;
    tidy(() => {
      const idx = tensor(list, { dtype: "int32" });
      this.#self = this.#self.map((kv) => {
        if (!kv) return kv;
        const next = { k: this.#gather(kv.k, idx), v: this.#gather(kv.v, idx) };
        this.#disposeKv(kv);
        return next;
      });
      this.#cross = this.#cross.map((kv) => {
        if (!kv) return kv;
        const audio = kv.k.shape[0];
        if (audio !== rows) {
          const g = rows / audio;
          const moved = list.findIndex((j, r) => Math.floor(((j + rows) % rows) / g) !== Math.floor(r / g));
          if (!same || moved >= 0)
            throw new Error(`DecoderCache.reorder: row ${moved} takes row ${list[moved]} of another audio (${g} rows share each audio's cross-attention)`);
          return kv;
        }
        const next = { k: keep(take(kv.k, idx, 0)), v: keep(take(kv.v, idx, 0)) };
        this.#disposeKv(kv);
        return next;
      });
    });
  }

  /** Releases every buffer now (the cache is empty afterwards). */
  dispose(): void {
    this.#self.forEach((kv) => this.#disposeKv(kv));
    this.#cross.forEach((kv) => this.#disposeKv(kv));
    this.#self = this.#self.map(() => undefined);
    this.#cross = this.#cross.map(() => undefined);
    this.#offset = 0;
    this.#capacity = 0;
  }

  #filled(buf: Tensor, length: number): Tensor {
    const [b, h, , d] = buf.shape;
    return slice(buf, [0, 0, 0, 0], [b, h, length, d]);
  }

  // The rows `idx` of buf, whole: a buffer of the same size as the one just released (the previous
  // step's), which the allocator hands back (it reuses exact sizes). Gathering only the filled part
  // would ask for a new size every step, and each would stay in the allocator's cache.
  #gather(buf: Tensor, idx: Tensor): Tensor {
    return keep(take(buf, idx, 0));
  }

  // Larger buffers holding the filled part of the old ones.
  #grow(needed: number): void {
    const capacity = Math.min(this.maxLength, Math.max(2 * this.#capacity, Math.ceil(needed / BLOCK) * BLOCK));
    this.#self = this.#self.map((kv) => {
      if (!kv) return kv;
      const bigger = (t: Tensor) => {
        const [b, h, , d] = t.shape;
        return keep(sliceUpdate(zeros([b, h, capacity, d], t.dtype), this.#filled(t, this.#offset), [0, 0, 0, 0]));
      };
      const next = tidy(() => ({ k: bigger(kv.k), v: bigger(kv.v) }));
      this.#disposeKv(kv);
      return next;
    });
    this.#capacity = capacity;
  }

  #disposeKv(kv?: KeyValue): void {
    kv?.k.dispose();
    kv?.v.dispose();
  }
}
