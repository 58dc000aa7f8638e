// JSON-schema constrained decoding: random sampling through the token mask always gives JSON that
// parses and validates (checked with ajv) on a tiny vocabulary with multi-byte and partial-UTF-8
// tokens; exact accept/reject on texts; the real Qwen 3 vocabulary; clear errors for what it cannot express.
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { compileJsonSchema, JsonConstraint, makeSampler, Prng, TokenVocabulary } from "@tessera/lm";
import type { JsonSchema } from "@tessera/lm";
import { loadTokenizer } from "./lenml.js";

const enc = new TextEncoder();
const TOKENS: (string | number[])[] = [
  "{", "}", "[", "]", ":", ",", "\"", "\\", " ", "\n", "\n  ", "\t", "\r", "0", "1", "2", "3", "5", "9", "-", ".", "e", "E", "+",
  "a", "b", "n", "o", "r", "x", "y", "true", "false", "null", "{\"", "\"}", "\",", "\":", "\": \"", "\"name\"", "\"age\"",
  "\"tags\"", "name", "age", "tags", "ok", "\"ok\":", "\\u", "00e9", "\\n", "é", "日本", "😀", [0xf0, 0x9f], [0x98, 0x80], [0xff], [0x80],
  "12", "3.5", "\"red\"", "red", "v", "kids", "\"v\":", "\"kids\":", "[]", "{}", " \"", "\x01",
];
// Every printable ASCII character as well, as real vocabularies have (so no key is unspellable).
for (let c = 0x20; c < 0x7f; c++) if (!TOKENS.includes(String.fromCharCode(c))) TOKENS.push(String.fromCharCode(c));
const EOS = TOKENS.length;
const vocab = new TokenVocabulary([...TOKENS.map((t) => (typeof t === "string" ? enc.encode(t) : Uint8Array.from(t))), null], new Set([EOS]));
const CLOSERS = new Set(TOKENS.flatMap((t, i) => (typeof t === "string" && /^["}\]]/.test(t) ? [i] : [])));

const SCHEMAS: Record<string, JsonSchema> = {
  json_object: { type: "json_object" },
  person: {
    type: "object",
    properties: {
      name: { type: "string", maxLength: 12 },
      age: { type: "integer" },
      tags: { type: "array", items: { type: "string", maxLength: 5 }, maxItems: 3 },
      ok: { type: "boolean" },
    },
    required: ["name", "age"],
    additionalProperties: false,
  },
  union: { anyOf: [{ type: "number" }, { type: "string", minLength: 2, maxLength: 6 }, { type: "null" }, { enum: ["red", 1, null, { a: [1] }] }] },
  tree: {
    $defs: { node: { type: "object", properties: { v: { type: "integer" }, kids: { type: "array", items: { $ref: "#/$defs/node" }, maxItems: 2 } }, required: ["v"] } },
    $ref: "#/$defs/node",
  },
  map: { type: "object", additionalProperties: { type: "number" } },
  strings: { type: "array", items: { type: "string", maxLength: 4 }, minItems: 2, maxItems: 4 },
  nullable: { type: ["string", "null"], maxLength: 3 },
};

/** Samples through the mask with random logits, closers favoured so that values end. */
function generate(schema: JsonSchema, seed: number, maxSteps = 400): { text: string; done: boolean } {
  const c = new JsonConstraint(schema, vocab);
  const sample = makeSampler({ seed });
  const rng = new Prng(seed + 1000);
  const bytes: number[] = [];
  for (let step = 0; step < maxSteps && !c.done; step++) {
    const logits = Float32Array.from({ length: vocab.size }, (_, i) => rng.next() * 2 + (CLOSERS.has(i) ? 1.5 : 0) + (i === EOS ? 3 : 0));
    const { token } = sample(logits, [], c.allowedTokens());
    c.accept(token);
    if (token !== EOS) bytes.push(...vocab.bytes[token]);
  }
  return { text: new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes)), done: c.done };
}

describe("random sampling through the JSON constraint", () => {
  const ajv = new Ajv({ strict: false });
  it.each(Object.entries(SCHEMAS))("%s: every finished completion parses and validates", (name, schema) => {
    const validate = ajv.compile(name === "json_object" ? { type: "object" } : (schema as object));
    let finished = 0;
    for (let seed = 0; seed < 40; seed++) {
      const { text, done } = generate(schema, seed);
      if (!done) continue;
      finished++;
      let value: unknown;
      expect(() => (value = JSON.parse(text)), text).not.toThrow();
      expect(validate(value), `${text}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(finished).toBeGreaterThanOrEqual(30);
  });
});

/** Feeds text one byte per token (a vocabulary of all 256 bytes). */
function accepts(schema: JsonSchema, text: string): "complete" | "prefix" | "rejected" {
  const bytesVocab = new TokenVocabulary(Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)), new Set(), 256);
  const c = new JsonConstraint(schema, bytesVocab);
  for (const b of enc.encode(text)) {
    if (!c.allowedTokens()[b]) return "rejected";
    c.accept(b);
  }
  return c.complete ? "complete" : "prefix";
}

describe("JSON constraint on whole texts", () => {
  it("accepts exactly the valid texts", () => {
    const p = SCHEMAS.person;
    expect(accepts(p, '{"name":"Bo","age":3}')).toBe("complete");
    expect(accepts(p, '{\n  "name": "Bo",\n  "age": -12,\n  "tags": ["a", "b"],\n  "ok": true\n}')).toBe("complete");
    expect(accepts(p, '{"name":"Bo","age":3')).toBe("prefix");
    expect(accepts(p, '{"age":3,"name":"x"}')).toBe("rejected"); // keys in schema order
    expect(accepts(p, '{"name":"x"}')).toBe("rejected"); // age is required
    expect(accepts(p, '{"name":"x","age":1.5}')).toBe("rejected"); // integer
    expect(accepts(p, '{"name":"x","age":01}')).toBe("rejected");
    expect(accepts(p, '{"name":"0123456789abc","age":1}')).toBe("rejected"); // maxLength 12
    expect(accepts(p, '{"name":"é\\u00e9\\n","age":1}')).toBe("complete");
    expect(accepts(p, '{"name":"x","age":1,}')).toBe("rejected");
    expect(accepts(p, '{"name":"x","zzz":1}')).toBe("rejected");
    expect(accepts(p, '{   "name":"x"}')).toBe("rejected"); // whitespace runs are limited
    expect(accepts(p, '{"name":"a\u0001"}')).toBe("rejected"); // control character in a string
    expect(accepts(SCHEMAS.json_object, '{"a":[1,2.5e-3,{"b":null}],"c":"d"}')).toBe("complete");
    expect(accepts(SCHEMAS.json_object, "[1]")).toBe("rejected");
    expect(accepts(SCHEMAS.union, "12")).toBe("complete");
    expect(accepts(SCHEMAS.union, '{"a":[1]}')).toBe("complete");
    expect(accepts(SCHEMAS.union, '"x"')).toBe("rejected");
    expect(accepts(SCHEMAS.strings, '["a"]')).toBe("rejected");
    expect(accepts(SCHEMAS.strings, '["a","b","c","d","e"]')).toBe("rejected");
    expect(accepts(SCHEMAS.tree, '{"v":1,"kids":[{"v":2,"kids":[]},{"v":3}]}')).toBe("complete");
  });
  it("checks UTF-8 inside strings byte by byte", () => {
    const vocabBytes = new TokenVocabulary([Uint8Array.of(0x22), Uint8Array.of(0xf0, 0x9f), Uint8Array.of(0x98, 0x80), Uint8Array.of(0xc0, 0x80), Uint8Array.of(0xed, 0xa0, 0x80)], new Set(), 5);
    const c = new JsonConstraint({ type: "string" }, vocabBytes);
    c.accept(0);
    expect([...c.allowedTokens()]).toEqual([1, 1, 0, 0, 0]); // overlong C0 80 and a surrogate ED A0 80 are not UTF-8
    c.accept(1);
    expect([...c.allowedTokens()]).toEqual([0, 0, 1, 0, 0]); // only the continuation of the emoji
    c.accept(2);
    c.accept(0);
    expect(c.complete).toBe(true);
    expect(() => c.accept(0)).toThrow(/does not continue a valid value/);
  });
});

describe("JSON constraint on a real vocabulary (Qwen 3)", () => {
  it("allows exactly the tokens that continue the value, never a control token", () => {
    const tok = loadTokenizer("qwen3");
    const v = TokenVocabulary.fromTokenizer(tok, tok.vocabSize + 3);
    const c = new JsonConstraint(SCHEMAS.person, v);
    const sample = makeSampler({ seed: 3 });
    const rng = new Prng(5);
    const ids: number[] = [];
    for (let step = 0; step < 40 && !c.done; step++) {
      const mask = c.allowedTokens();
      expect(mask.length).toBe(tok.vocabSize + 3);
      if (step % 10 === 0) {
        for (const id of tok.specialTokenIds) if (!tok.eosTokenIds.has(id)) expect(mask[id]).toBe(0);
        // A sample of tokens, allowed or not, checked by advancing a fork of the constraint.
        for (let k = 0; k < 300; k++) {
          const id = Math.floor(rng.next() * tok.vocabSize);
          if (tok.isSpecial(id)) continue;
          let ok = true;
          try {
            c.fork().accept(id);
          } catch {
            ok = false;
          }
          expect(mask[id], `token ${id} ${JSON.stringify(tok.decode([id]))} at ${JSON.stringify(tok.decode(ids))}`).toBe(ok ? 1 : 0);
        }
      }
      const logits = Float32Array.from({ length: mask.length }, () => rng.next());
      const { token } = sample(logits, [], mask);
      c.accept(token);
      ids.push(token);
    }
    expect(tok.decode(ids).startsWith("{")).toBe(true);
  });
});

describe("schemas the constraint cannot express", () => {
  it("are rejected with an Error naming the place and keyword", () => {
    const bad: [JsonSchema, RegExp][] = [
      [{ type: "string", pattern: "^a" }, /# : the keyword 'pattern' is not supported|keyword 'pattern'/],
      [{ type: "string", format: "date-time" }, /keyword 'format'/],
      [{ type: "object", properties: { n: { type: "integer", minimum: 0 } } }, /#\/properties\/n: the keyword 'minimum'/],
      [{ allOf: [{ type: "string" }] }, /keyword 'allOf'/],
      [{ not: { type: "null" } }, /keyword 'not'/],
      [{ $ref: "other.json#/a" }, /only local \$ref/],
      [{ $ref: "#/$defs/missing" }, /does not resolve/],
      [false, /matches nothing/],
      [{ type: "date" }, /unknown type "date"/],
      [{ type: "object", properties: { a: {} }, required: ["b"] }, /required properties b have no schema/],
      [{ type: "object", properties: { a: {} }, additionalProperties: { type: "string" } }, /additionalProperties are not supported/],
      [{ type: "array", items: [{ type: "string" }] }, /tuple 'items'/],
      [{ type: "string", minLength: 3, maxLength: 2 }, /maxLength < minLength/],
      [{ enum: [] }, /enum must be a non-empty array/],
    ];
    for (const [s, re] of bad) expect(() => compileJsonSchema(s), JSON.stringify(s)).toThrow(re);
  });
  it("refuses tokens that break the value", () => {
    const c = new JsonConstraint({ type: "object" }, vocab);
    expect(() => c.accept(TOKENS.indexOf("]"))).toThrow(/does not continue a valid value/);
    expect(() => c.accept(EOS)).toThrow(/before the JSON value is complete/);
  });
});
