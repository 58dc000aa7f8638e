// Reader for CTranslate2's model.bin (binary version 6, as ctranslate2/specs/model_spec.py
// `_serialize` writes it): u32 version, string spec name, u32 revision, u32 variable count, then per
// variable: string name, u8 rank, u32 dims[rank], u8 dtype id, u32 byte size, raw bytes; then
// u32 alias count and (alias, target) string pairs. Strings are u16 length (incl. a NUL) + UTF-8 + NUL.
// All little-endian. Variables are views into the file's buffer (no copies).

/** CTranslate2 dtype ids (model_spec.py `_dtype_to_type_id`). */
export const CT2_DTYPES = ["float32", "int8", "int16", "int32", "float16", "bfloat16"] as const;
export type Ct2DType = (typeof CT2_DTYPES)[number];

export interface Ct2Variable {
  name: string;
  shape: number[];
  dtype: Ct2DType;
  data: Uint8Array;
}

export interface Ct2Model {
  version: number;
  spec: string;
  revision: number;
  variables: Map<string, Ct2Variable>;
  /** alias name -> the variable it shares its value with (e.g. the tied output projection). */
  aliases: Map<string, string>;
}

const ITEM_BYTES: Record<Ct2DType, number> = { float32: 4, int8: 1, int16: 2, int32: 4, float16: 2, bfloat16: 2 };

/** Parses a whole model.bin buffer; throws naming the offset on truncated or malformed input. */
export function parseCt2(buf: Uint8Array, source = "model.bin"): Ct2Model {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  const need = (n: number, what: string) => {
    if (o + n > buf.byteLength) throw new Error(`${source}: truncated at byte ${o} reading ${what} (${n} bytes needed, file is ${buf.byteLength})`);
  };
  const u8 = (what: string) => (need(1, what), view.getUint8(o++));
  const u16 = (what: string) => { need(2, what); const v = view.getUint16(o, true); o += 2; return v; };
  const u32 = (what: string) => { need(4, what); const v = view.getUint32(o, true); o += 4; return v; };
  const str = (what: string) => {
    const n = u16(what);
    need(n, what);
    if (n < 1 || buf[o + n - 1] !== 0) throw new Error(`${source}: malformed string at byte ${o} (${what})`);
    const s = new TextDecoder().decode(buf.subarray(o, o + n - 1));
    o += n;
    return s;
  };
  const version = u32("version");
  if (version !== 6) throw new Error(`${source}: CTranslate2 binary version ${version} is not supported (expected 6)`);
  const spec = str("spec name");
  const revision = u32("revision");
  const count = u32("variable count");
  const variables = new Map<string, Ct2Variable>();
  for (let i = 0; i < count; i++) {
    const name = str(`variable ${i} name`);
    const rank = u8(`${name} rank`);
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) shape.push(u32(`${name} dims`));
    const id = u8(`${name} dtype`);
    const dtype = CT2_DTYPES[id];
    if (dtype === undefined) throw new Error(`${source}: '${name}' has unknown dtype id ${id}`);
    const size = u32(`${name} byte size`);
    const expected = shape.reduce((a, b) => a * b, 1) * ITEM_BYTES[dtype];
    if (size !== expected) throw new Error(`${source}: '${name}' [${shape.join(", ")}] ${dtype} holds ${size} bytes, expected ${expected}`);
    need(size, `${name} data`);
    variables.set(name, { name, shape, dtype, data: buf.subarray(o, o + size) });
    o += size;
  }
  const aliases = new Map<string, string>();
  const nAliases = u32("alias count");
  for (let i = 0; i < nAliases; i++) {
    const alias = str("alias");
    const target = str("alias target");
    if (!variables.has(target)) throw new Error(`${source}: alias '${alias}' points to a missing variable '${target}'`);
    aliases.set(alias, target);
  }
  if (o !== buf.byteLength) throw new Error(`${source}: ${buf.byteLength - o} trailing bytes after the aliases`);
  return { version, spec, revision, variables, aliases };
}

/** A variable or alias, resolved. */
export function ct2Get(m: Ct2Model, name: string): Ct2Variable | undefined {
  const target = m.aliases.get(name);
  return m.variables.get(target ?? name);
}

/** Reads a scalar integer variable (int8/int16/int32). */
export function ct2Int(m: Ct2Model, name: string): number {
  const v = ct2Get(m, name);
  if (!v || v.shape.length !== 0) throw new Error(`model.bin: missing scalar '${name}'`);
  const dv = new DataView(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  if (v.dtype === "int8") return dv.getInt8(0);
  if (v.dtype === "int16") return dv.getInt16(0, true);
  if (v.dtype === "int32") return dv.getInt32(0, true);
  throw new Error(`model.bin: '${name}' is ${v.dtype}, expected an integer scalar`);
}
