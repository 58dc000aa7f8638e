// A full-attention layer's cache with keys and values stored quantized, as mlx-lm's
// QuantizedKVCache (kv_bits, kv_group_size): each step's k / v [B, Hkv, L, D] are quantized with
// MLX's affine quantization per group of D's features (packed uint32 words plus a scale and a bias
// per group, in the cache dtype) and written in place into buffers preallocated in steps, as
// KVCache does. Attention reads the held positions dequantized (a transient of one layer at a
// time), so the kernels and masks are KVCache's; what stays resident is about half of a float16
// cache at 8 bits (D + 4 D / groupSize bytes per position and head instead of 2 D).
import { Tensor, astype, concatenate, quant, sliceUpdate, zeros } from "@tessera/core";
import type { DType } from "@tessera/core";
import { checkKV, rows, swap } from "./cache.js";
import type { CacheView, KVCacheOptions, LayerCache } from "./cache.js";

/** The three buffers of one quantized tensor, [B, H, capacity, ...]. */
interface Packed {
  weight: Tensor;
  scales: Tensor;
  biases: Tensor;
}

const PARTS = ["weight", "scales", "biases"] as const;

export class QuantizedKVCache implements LayerCache {
  keys?: Packed;
  values?: Packed;
  offset = 0;
  readonly bits: number;
  readonly groupSize: number;
  readonly dtype: DType;
  readonly step: number;

  constructor(opts: KVCacheOptions = {}) {
    const { bits, groupSize } = quant.quantParams("QuantizedKVCache", { bits: opts.kvBits ?? 8, groupSize: opts.kvGroupSize ?? 64 });
    this.bits = bits;
    this.groupSize = groupSize;
    this.dtype = opts.dtype ?? "float16";
    if (this.dtype !== "float16" && this.dtype !== "bfloat16" && this.dtype !== "float32")
      throw new Error(`QuantizedKVCache: dtype must be float16, bfloat16 or float32, got ${String(opts.dtype)}`);
    this.step = opts.step ?? 256;
    if (!Number.isInteger(this.step) || this.step <= 0) throw new Error(`QuantizedKVCache: step must be a positive integer, got ${String(opts.step)}`);
  }

  // Shapes of a packed tensor's buffers for n positions of D features.
  #shapes(b: number, h: number, n: number, d: number): Record<(typeof PARTS)[number], number[]> {
    return { weight: [b, h, n, (d * this.bits) / 32], scales: [b, h, n, d / this.groupSize], biases: [b, h, n, d / this.groupSize] };
  }

  #grow(held: Packed | undefined, b: number, h: number, d: number, size: number): Packed {
    const shapes = this.#shapes(b, h, size - this.offset, d);
    const out = {} as Packed;
    for (const p of PARTS) {
      const fresh = zeros(shapes[p], p === "weight" ? "uint32" : this.dtype);
      out[p] = swap(held?.[p], held ? concatenate([rows(held[p], 0, this.offset), fresh], 2) : fresh);
    }
    return out;
  }

  #write(held: Packed, x: Tensor, end: number): Packed {
    const [b, h, , d] = x.shape;
    const q = quant.quantize(astype(x, this.dtype), { bits: this.bits, groupSize: this.groupSize });
    const shapes = this.#shapes(b, h, end, d);
    const out = {} as Packed;
    for (const p of PARTS) {
      const s = shapes[p];
      out[p] = swap(held[p], sliceUpdate(held[p], q[p], [0, 0, this.offset, 0], [b, h, end, s[3]]));
    }
    return out;
  }

  #read(held: Packed, end: number): Tensor {
    return quant.dequantize(rows(held.weight, 0, end), rows(held.scales, 0, end), rows(held.biases, 0, end), { bits: this.bits, groupSize: this.groupSize });
  }

  update(k: Tensor, v: Tensor): CacheView {
    checkKV("QuantizedKVCache.update", k, v);
    const [b, h, l, d] = k.shape;
    const dv = v.shape[3];
    for (const [name, n] of [["head_dim of the keys", d], ["head_dim of the values", dv]] as const)
      if (n % this.groupSize || (n * this.bits) % 32)
        throw new Error(`QuantizedKVCache: kvGroupSize ${this.groupSize} must divide the ${name} (${n}); use a smaller kvGroupSize or a float cache`);
    if (this.keys && (this.keys.weight.shape[0] !== b || this.keys.weight.shape[1] !== h || this.keys.scales.shape[3] * this.groupSize !== d))
      throw new Error(`QuantizedKVCache.update: new keys [${k.shape.join(", ")}] do not match the cached batch, heads and head_dim`);
    const end = this.offset + l;
    if (!this.keys || !this.values || end > this.keys.weight.shape[2]) {
      const size = Math.ceil(end / this.step) * this.step;
      this.keys = this.#grow(this.keys, b, h, d, size);
      this.values = this.#grow(this.values, b, h, dv, size);
    }
    this.keys = this.#write(this.keys, k, end);
    this.values = this.#write(this.values, v, end);
    this.offset = end;
    return { keys: this.#read(this.keys, end), values: this.#read(this.values, end), mask: l > 1 ? "causal" : null };
  }

  state(): Tensor[] {
    return this.keys && this.values ? PARTS.flatMap((p) => [this.keys![p], this.values![p]]) : [];
  }

  /** Bytes the buffers hold (allocated capacity, as for a float cache's keys and values). */
  get nbytes(): number {
    return this.state().reduce((n, t) => n + t.nbytes, 0);
  }

  dispose(): void {
    for (const t of this.state()) t.dispose();
    this.keys = this.values = undefined;
    this.offset = 0;
  }
}
