// A minimal GGUF v3 writer for tests: metadata of a few value types and float32 tensors.
export type MetaValue = string | number | boolean | { f32: number } | string[] | number[] | { f32s: number[] };

function str(s: string): Buffer {
  const b = Buffer.from(s, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b]);
}
const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const u64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
const f32 = (v: number) => { const b = Buffer.alloc(4); b.writeFloatLE(v); return b; };

function value(v: MetaValue): Buffer {
  if (typeof v === "string") return Buffer.concat([u32(8), str(v)]);
  if (typeof v === "boolean") return Buffer.concat([u32(7), Buffer.from([v ? 1 : 0])]);
  if (typeof v === "number") return Buffer.concat([u32(4), u32(v)]);
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "string")) return Buffer.concat([u32(9), u32(8), u64(v.length), ...(v as string[]).map(str)]);
    return Buffer.concat([u32(9), u32(5), u64(v.length), ...(v as number[]).map((x) => { const b = Buffer.alloc(4); b.writeInt32LE(x); return b; })]);
  }
  if ("f32" in v) return Buffer.concat([u32(6), f32(v.f32)]);
  return Buffer.concat([u32(9), u32(6), u64(v.f32s.length), ...v.f32s.map(f32)]);
}

/** GGUF bytes: metadata, then float32 tensors (NumPy-order shapes) with their data, 32-aligned. */
export function ggufBytes(meta: Record<string, MetaValue>, tensors: Record<string, { shape: number[]; data?: Float32Array }> = {}): Buffer {
  const entries = Object.entries(tensors);
  const head: Buffer[] = [Buffer.from("GGUF"), u32(3), u64(entries.length), u64(Object.keys(meta).length)];
  for (const [k, v] of Object.entries(meta)) head.push(str(k), value(v));
  const datas: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    head.push(str(name), u32(t.shape.length), ...[...t.shape].reverse().map(u64), u32(0), u64(offset));
    const d = Buffer.from((t.data ?? new Float32Array(n)).buffer.slice(0));
    const padded = Buffer.alloc(Math.ceil(d.length / 32) * 32);
    d.copy(padded);
    datas.push(padded);
    offset += padded.length;
  }
  const h = Buffer.concat(head);
  return Buffer.concat([h, Buffer.alloc(Math.ceil(h.length / 32) * 32 - h.length), ...datas]);
}
