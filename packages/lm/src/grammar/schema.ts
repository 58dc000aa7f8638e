// JSON Schema → the value grammar the JSON constraint parses against. Supported: type (one or a
// list), properties / required (keys in the schema's order, as llama.cpp's converter), object maps
// (additionalProperties: schema), items, minItems / maxItems, minLength / maxLength, enum, const,
// anyOf / oneOf, local $ref (#/$defs/..., #/definitions/..., recursive). Anything else that
// constrains a value (pattern, format, numeric bounds, allOf, not, if/then...) is an Error, since the
// output could not be guaranteed to validate.

/** A JSON Schema (the subset above), or OpenAI's `{ type: "json_object" }` for any JSON object. */
export type JsonSchema = boolean | { [keyword: string]: unknown };

/** The compiled grammar of one value. */
export type ValueNode =
  | { kind: "any" }
  | { kind: "object"; props: PropertyNode[]; additional: ValueNode | null }
  | { kind: "array"; items: ValueNode; min: number; max: number }
  | { kind: "string"; min: number; max: number }
  | { kind: "number"; integer: boolean }
  | { kind: "literal"; texts: string[] }
  | { kind: "union"; options: ValueNode[] }
  | { kind: "ref"; target: () => ValueNode };

export interface PropertyNode {
  key: string;
  node: ValueNode;
  required: boolean;
}

/** Keywords that only annotate: ignored. */
const ANNOTATIONS = new Set(["$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "strict", "name"]);
const HANDLED = new Set(["type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minLength", "maxLength", "enum", "const", "anyOf", "oneOf", "$ref", "nullable"]);

const ANY: ValueNode = { kind: "any" };

function fail(path: string, what: string): never {
  throw new Error(`JSON schema at ${path || "#"}: ${what}`);
}

function count(path: string, v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) fail(path, `${name} must be an integer >= 0`);
  return v;
}

class Compiler {
  private readonly refs = new Map<string, ValueNode>();
  constructor(private readonly root: JsonSchema) {}

  compile(s: JsonSchema, path: string): ValueNode {
    if (s === true) return ANY;
    if (s === false) fail(path, "the schema false matches nothing");
    if (typeof s !== "object" || s === null || Array.isArray(s)) fail(path, "a schema must be an object or a boolean");
    for (const k of Object.keys(s)) {
      if (!ANNOTATIONS.has(k) && !HANDLED.has(k)) fail(path, `the keyword '${k}' is not supported by the JSON constraint`);
    }
    if (s.$ref !== undefined) return this.ref(s.$ref, path);
    if (s.const !== undefined) return { kind: "literal", texts: [JSON.stringify(s.const)] };
    if (s.enum !== undefined) {
      if (!Array.isArray(s.enum) || s.enum.length === 0) fail(path, "enum must be a non-empty array");
      return { kind: "literal", texts: s.enum.map((v) => JSON.stringify(v)) };
    }
    const alts = s.anyOf ?? s.oneOf;
    if (alts !== undefined) {
      if (!Array.isArray(alts) || alts.length === 0) fail(path, "anyOf / oneOf must be a non-empty array");
      const key = s.anyOf !== undefined ? "anyOf" : "oneOf";
      return { kind: "union", options: alts.map((a, i) => this.compile(a as JsonSchema, `${path}/${key}/${i}`)) };
    }
    let types = s.type;
    if (types === undefined) return this.untyped(s, path);
    if (!Array.isArray(types)) types = [types];
    if (s.nullable === true) types = [...(types as unknown[]), "null"];
    const nodes = (types as unknown[]).map((t) => this.typed(s, t, path));
    return nodes.length === 1 ? nodes[0] : { kind: "union", options: nodes };
  }

  private untyped(s: { [k: string]: unknown }, path: string): ValueNode {
    if (s.properties !== undefined || s.additionalProperties !== undefined || s.required !== undefined) return this.typed(s, "object", path);
    if (s.items !== undefined) return this.typed(s, "array", path);
    if (s.minLength !== undefined || s.maxLength !== undefined) return this.typed(s, "string", path);
    return ANY;
  }

  private typed(s: { [k: string]: unknown }, t: unknown, path: string): ValueNode {
    switch (t) {
      case "json_object": // OpenAI's response_format { type: "json_object" }
      case "object":
        return this.object(s, path, t === "json_object");
      case "array": {
        const min = count(path, s.minItems, "minItems", 0);
        const max = count(path, s.maxItems, "maxItems", Infinity);
        if (max < min) fail(path, "maxItems < minItems");
        if (Array.isArray(s.items)) fail(path, "tuple 'items' arrays are not supported");
        return { kind: "array", items: s.items === undefined ? ANY : this.compile(s.items as JsonSchema, `${path}/items`), min, max };
      }
      case "string": {
        const min = count(path, s.minLength, "minLength", 0);
        const max = count(path, s.maxLength, "maxLength", Infinity);
        if (max < min) fail(path, "maxLength < minLength");
        return { kind: "string", min, max };
      }
      case "number":
      case "integer":
        return { kind: "number", integer: t === "integer" };
      case "boolean":
        return { kind: "literal", texts: ["true", "false"] };
      case "null":
        return { kind: "literal", texts: ["null"] };
      default:
        return fail(path, `unknown type ${JSON.stringify(t)}`);
    }
  }

  private object(s: { [k: string]: unknown }, path: string, anyObject: boolean): ValueNode {
    const propsSchema = (s.properties ?? {}) as Record<string, JsonSchema>;
    if (typeof propsSchema !== "object" || propsSchema === null || Array.isArray(propsSchema)) fail(path, "properties must be an object");
    const required = s.required ?? [];
    if (!Array.isArray(required) || required.some((r) => typeof r !== "string")) fail(path, "required must be an array of strings");
    const props = Object.entries(propsSchema).map(([key, ps]) => ({ key, node: this.compile(ps, `${path}/properties/${key}`), required: (required as string[]).includes(key) }));
    const extra = (required as string[]).filter((r) => !(r in propsSchema));
    if (extra.length) fail(path, `required properties ${extra.join(", ")} have no schema in properties`);
    const ap = s.additionalProperties;
    if (props.length === 0) {
      // A map (or any object): free keys, values of additionalProperties' schema.
      if (ap === false) return { kind: "object", props: [], additional: null };
      return { kind: "object", props: [], additional: ap === undefined || ap === true || anyObject ? ANY : this.compile(ap as JsonSchema, `${path}/additionalProperties`) };
    }
    if (ap !== undefined && ap !== false) fail(path, "properties together with additionalProperties are not supported (keys are generated in the schema's order)");
    return { kind: "object", props, additional: null };
  }

  private ref(ref: unknown, path: string): ValueNode {
    if (typeof ref !== "string" || !ref.startsWith("#")) fail(path, `only local $ref ("#/$defs/...") is supported, got ${JSON.stringify(ref)}`);
    const known = this.refs.get(ref);
    if (known) return known;
    const node: ValueNode = { kind: "ref", target: () => fail(path, `$ref ${ref} is used before it is compiled`) };
    this.refs.set(ref, node);
    let target: unknown = this.root;
    for (const part of ref.slice(1).split("/").filter(Boolean)) {
      const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
      target = typeof target === "object" && target !== null ? (target as Record<string, unknown>)[key] : undefined;
      if (target === undefined) fail(path, `$ref ${ref} does not resolve`);
    }
    const compiled = this.compile(target as JsonSchema, ref);
    node.target = () => compiled;
    return node;
  }
}

/** Compiles a JSON schema (or `{ type: "json_object" }`) to a value grammar; throws for what it cannot express. */
export function compileJsonSchema(schema: JsonSchema): ValueNode {
  return new Compiler(schema).compile(schema, "#");
}
