// Python's formatting rules that openai-whisper's outputs depend on, so ours come out byte for byte the same:
// round() (halves to even), str.strip() and len() (code points), float repr and json.dumps (ensure_ascii).

/** Python's `round(x)` to an integer: halves go to the even neighbour. */
export function pyRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor; // exact for the magnitudes that occur (below 2^52)
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

// Python's str.isspace() characters (Unicode White_Space and the separators \x1c-\x1f); not \ufeff, which JS trims.
const PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const LEADING_SPACE = new RegExp(`^[${PY_SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${PY_SPACE}]+$`);

/** Python's `str.strip()` (JS's trim() removes a different set). */
export function pyStrip(s: string): string {
  return s.replace(LEADING_SPACE, "").replace(TRAILING_SPACE, "");
}

/** The leading whitespace of `s` as Python's `\s*` matches it. */
export function pyLeadingSpace(s: string): string {
  return LEADING_SPACE.exec(s)?.[0] ?? "";
}

/** Python's `len(str)`: code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python's `repr(float)` (what json.dumps writes): shortest round-trip digits, exponent past 1e16 or below 1e-4. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without digits gives the shortest digits that round-trip, as Python's repr.
  const [mantissa, expText] = Math.abs(x).toExponential().split("e");
  const exp = Number(expText);
  const digits = mantissa.replace(".", "");
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const fracPart = digits.slice(exp + 1) || "0";
  return `${sign}${intPart}.${fracPart}`;
}

/** Python's json.dumps of a str with ensure_ascii (the default): every character outside ' '..'~' escaped. */
export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      out += c === 0x22 ? '\\"' : c === 0x5c ? "\\\\" : s[i];
    } else {
      out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, "0")}`;
    }
  }
  return out + '"';
}

const SHORT_ESCAPES: Record<number, string> = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r" };

/**
 * numpy.arange(start, stop, step) for floats, value for value: numpy fills `start + i * delta` where
 * delta = (start + step) - start, and takes ceil((stop - start) / step) values.
 */
export function npArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  if (length === 0) return [];
  const values = [start];
  if (length > 1) values.push(start + step);
  const delta = (start + step) - start;
  for (let i = 2; i < length; i++) values.push(start + i * delta);
  return values;
}
