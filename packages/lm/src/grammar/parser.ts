// A byte-level JSON parser for a value grammar (grammar/schema.ts), built to be branched: a state is a
// set of immutable frame stacks (several when the grammar is ambiguous so far: anyOf, optional keys),
// and advancing by one byte returns new stacks, leaving the old ones usable. Strings are checked as
// UTF-8 (so output always decodes), whitespace between tokens is limited to llama.cpp's rule (one
// space, or a newline and up to 20 spaces/tabs) so that a model cannot loop on whitespace.
import type { ValueNode } from "./schema.js";

type ObjNode = Extract<ValueNode, { kind: "object" }>;
type ArrNode = Extract<ValueNode, { kind: "array" }>;

type Frame =
  | { t: "value"; node: ValueNode }
  | { t: "lit"; bytes: Uint8Array; pos: number }
  | { t: "str"; min: number; max: number; len: number; esc: number; cont: number; lo: number; hi: number }
  | { t: "num"; integer: boolean; phase: number; len: number }
  | { t: "obj"; node: ObjNode; phase: ObjPhase; next: number; cur: number; ws: number }
  | { t: "arr"; node: ArrNode; phase: ArrPhase; count: number; ws: number }
  | { t: "done" };
type ObjPhase = "open" | "key" | "colon" | "value" | "after";
type ArrPhase = "open" | "item" | "after";

/** One parse: a frame stack as a linked list (top first). */
export interface Stack {
  readonly frame: Frame;
  readonly rest: Stack | null;
}

const MAX_INDENT = 20;
const MAX_NUMBER_LENGTH = 32;
const utf8 = new TextEncoder();
const litCache = new Map<string, Uint8Array>();
const bytesOf = (text: string): Uint8Array => {
  let b = litCache.get(text);
  if (b === undefined) litCache.set(text, (b = utf8.encode(text)));
  return b;
};
const push = (frame: Frame, rest: Stack | null): Stack => ({ frame, rest });
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** The stacks a parse of `root` starts with. */
export function initialStacks(root: ValueNode): Stack[] {
  return [push({ t: "value", node: root }, push({ t: "done" }, null))];
}

/** The stacks after one more byte (empty: the byte is not allowed). */
export function advance(stacks: readonly Stack[], b: number): Stack[] {
  const out: Stack[] = [];
  for (const s of stacks) feed(s, b, out);
  return out;
}

/** Whether the text so far is a complete value (a number may still go on). */
export function canEnd(stacks: readonly Stack[]): boolean {
  return stacks.some(function end(s: Stack | null): boolean {
    if (s === null) return false;
    const f = s.frame;
    if (f.t === "done") return true;
    return f.t === "num" && numberComplete(f.phase) && end(s.rest);
  });
}

function feed(s: Stack, b: number, out: Stack[]): void {
  const f = s.frame;
  switch (f.t) {
    case "value":
      return startValue(f.node, s.rest, b, out);
    case "lit":
      if (f.bytes[f.pos] !== b) return;
      out.push(f.pos + 1 === f.bytes.length ? (s.rest as Stack) : push({ ...f, pos: f.pos + 1 }, s.rest));
      return;
    case "str":
      return stringByte(f, s.rest, b, out);
    case "num": {
      const phase = numberStep(f.phase, b, f.integer);
      if (phase >= 0 && f.len < MAX_NUMBER_LENGTH) out.push(push({ ...f, phase, len: f.len + 1 }, s.rest));
      else if (phase < 0 && numberComplete(f.phase) && s.rest) feed(s.rest, b, out);
      return;
    }
    case "obj":
      return objectByte(f, s.rest, b, out);
    case "arr":
      return arrayByte(f, s.rest, b, out);
    case "done":
      return;
  }
}

function startValue(node: ValueNode, rest: Stack | null, b: number, out: Stack[]): void {
  switch (node.kind) {
    case "any":
      if (b === 0x7b) out.push(push({ t: "obj", node: ANY_OBJECT, phase: "open", next: 0, cur: -1, ws: 0 }, rest));
      else if (b === 0x5b) out.push(push({ t: "arr", node: ANY_ARRAY, phase: "open", count: 0, ws: 0 }, rest));
      else if (b === 0x22) out.push(push(newString(0, Infinity), rest));
      else if (b === 0x2d || isDigit(b)) startNumber(false, rest, b, out);
      else for (const t of ["true", "false", "null"]) startLiteral(t, rest, b, out);
      return;
    case "object":
      if (b === 0x7b) out.push(push({ t: "obj", node, phase: "open", next: 0, cur: -1, ws: 0 }, rest));
      return;
    case "array":
      if (b === 0x5b) out.push(push({ t: "arr", node, phase: "open", count: 0, ws: 0 }, rest));
      return;
    case "string":
      if (b === 0x22) out.push(push(newString(node.min, node.max), rest));
      return;
    case "number":
      if (b === 0x2d || isDigit(b)) startNumber(node.integer, rest, b, out);
      return;
    case "literal":
      for (const t of node.texts) startLiteral(t, rest, b, out);
      return;
    case "union":
      for (const o of node.options) startValue(o, rest, b, out);
      return;
    case "ref":
      return startValue(node.target(), rest, b, out);
  }
}

const ANY_OBJECT: ObjNode = { kind: "object", props: [], additional: { kind: "any" } };
const ANY_ARRAY: ArrNode = { kind: "array", items: { kind: "any" }, min: 0, max: Infinity };

function newString(min: number, max: number): Frame {
  return { t: "str", min, max, len: 0, esc: 0, cont: 0, lo: 0x80, hi: 0xbf };
}

function startLiteral(text: string, rest: Stack | null, b: number, out: Stack[]): void {
  const bytes = bytesOf(text);
  if (bytes[0] !== b) return;
  out.push(bytes.length === 1 ? (rest as Stack) : push({ t: "lit", bytes, pos: 1 }, rest));
}

function startNumber(integer: boolean, rest: Stack | null, b: number, out: Stack[]): void {
  const phase = numberStep(0, b, integer);
  if (phase >= 0) out.push(push({ t: "num", integer, phase, len: 1 }, rest));
}

/** JSON's number automaton: 0 start, 1 after '-', 2 a leading 0, 3 integer digits, 4 after '.', 5 fraction, 6 after 'e', 7 exponent sign, 8 exponent digits. */
function numberStep(phase: number, b: number, integer: boolean): number {
  const d = isDigit(b);
  switch (phase) {
    case 0:
      return b === 0x2d ? 1 : b === 0x30 ? 2 : d ? 3 : -1;
    case 1:
      return b === 0x30 ? 2 : d ? 3 : -1;
    case 2:
    case 3:
      if (phase === 3 && d) return 3;
      if (integer) return -1;
      return b === 0x2e ? 4 : b === 0x65 || b === 0x45 ? 6 : -1;
    case 4:
      return d ? 5 : -1;
    case 5:
      return d ? 5 : b === 0x65 || b === 0x45 ? 6 : -1;
    case 6:
      return b === 0x2b || b === 0x2d ? 7 : d ? 8 : -1;
    case 7:
    case 8:
      return d ? 8 : -1;
    default:
      return -1;
  }
}

function numberComplete(phase: number): boolean {
  return phase === 2 || phase === 3 || phase === 5 || phase === 8;
}

function stringByte(f: Extract<Frame, { t: "str" }>, rest: Stack | null, b: number, out: Stack[]): void {
  const grow = (next: Partial<typeof f>, counts: boolean): void => {
    if (counts && f.len + 1 > f.max) return;
    out.push(push({ ...f, ...next, len: counts ? f.len + 1 : f.len }, rest));
  };
  if (f.cont > 0) {
    if (b >= f.lo && b <= f.hi) grow({ cont: f.cont - 1, lo: 0x80, hi: 0xbf }, false);
    return;
  }
  if (f.esc === 1) {
    if (b === 0x75) grow({ esc: 5 }, false); // \u: four hex digits
    else if ([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74].includes(b)) grow({ esc: 0 }, false);
    return;
  }
  if (f.esc > 1) {
    const hex = isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
    if (hex) grow({ esc: f.esc === 2 ? 0 : f.esc - 1 }, false);
    return;
  }
  if (b === 0x22) {
    if (f.len >= f.min && rest) out.push(rest);
  } else if (b === 0x5c) grow({ esc: 1 }, true); // an escape is one character, counted at its start
  else if (b < 0x20 || b === 0x7f) return;
  else if (b < 0x80) grow({}, true);
  // UTF-8 lead bytes, with the ranges that exclude overlong forms and surrogates.
  else if (b >= 0xc2 && b <= 0xdf) grow({ cont: 1 }, true);
  else if (b === 0xe0) grow({ cont: 2, lo: 0xa0, hi: 0xbf }, true);
  else if (b === 0xed) grow({ cont: 2, lo: 0x80, hi: 0x9f }, true);
  else if (b >= 0xe1 && b <= 0xef) grow({ cont: 2 }, true);
  else if (b === 0xf0) grow({ cont: 3, lo: 0x90, hi: 0xbf }, true);
  else if (b >= 0xf1 && b <= 0xf3) grow({ cont: 3 }, true);
  else if (b === 0xf4) grow({ cont: 3, lo: 0x80, hi: 0x8f }, true);
}

/** Whitespace in a container: one space, or a newline and up to MAX_INDENT spaces/tabs. */
function whitespace(ws: number, b: number): number {
  if (ws === 0) return b === 0x20 ? 1 : b === 0x0a ? 2 : -1;
  if (ws >= 2 && ws < 2 + MAX_INDENT && (b === 0x20 || b === 0x09)) return ws + 1;
  return -1;
}
const isWs = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d;

function objectByte(f: Extract<Frame, { t: "obj" }>, rest: Stack | null, b: number, out: Stack[]): void {
  if (isWs(b)) {
    const ws = whitespace(f.ws, b);
    if (ws >= 0) out.push(push({ ...f, ws }, rest));
    return;
  }
  const { props, additional } = f.node;
  const here = (phase: ObjPhase, extra: Partial<typeof f> = {}): Frame => ({ ...f, ...extra, phase, ws: 0 });
  switch (f.phase) {
    case "open":
    case "key":
      if (b === 0x7d && f.phase === "open" && !props.slice(f.next).some((p) => p.required) && rest) out.push(rest);
      if (b !== 0x22) return;
      if (additional !== null) {
        out.push(push(newString(0, Infinity), push(here("colon"), rest)));
        return;
      }
      // Any later property may come next, as long as no required one is skipped.
      for (let j = f.next; j < props.length; j++) {
        const key = bytesOf(JSON.stringify(props[j].key));
        out.push(push({ t: "lit", bytes: key, pos: 1 }, push(here("colon", { next: j + 1, cur: j }), rest)));
        if (props[j].required) break;
      }
      return;
    case "colon":
      if (b === 0x3a) out.push(push(here("value"), rest));
      return;
    case "value": {
      const node = f.cur >= 0 ? props[f.cur].node : (additional as ValueNode);
      startValue(node, push(here("after"), rest), b, out);
      return;
    }
    case "after":
      if (b === 0x7d && !props.slice(f.next).some((p) => p.required) && rest) out.push(rest);
      if (b === 0x2c && (additional !== null || f.next < props.length)) out.push(push(here("key"), rest));
      return;
  }
}

function arrayByte(f: Extract<Frame, { t: "arr" }>, rest: Stack | null, b: number, out: Stack[]): void {
  if (isWs(b)) {
    const ws = whitespace(f.ws, b);
    if (ws >= 0) out.push(push({ ...f, ws }, rest));
    return;
  }
  const { items, min, max } = f.node;
  if (f.phase === "after") {
    if (b === 0x5d && f.count >= min && rest) out.push(rest);
    if (b === 0x2c && f.count < max) out.push(push({ ...f, phase: "item", ws: 0 }, rest));
    return;
  }
  if (b === 0x5d && f.phase === "open" && min === 0 && rest) {
    out.push(rest);
    return;
  }
  if (f.count < max) startValue(items, push({ ...f, phase: "after", count: f.count + 1, ws: 0 }, rest), b, out);
}
