// Elementwise ops against NumPy fixtures (tools/reference/gen_elementwise.py), plus promotion,
// signed zeros, strided/blocked kernel paths and bad input.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { expectClose, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefCase } from "../../../test/helpers/reference.js";

const UNARY: Record<string, (a: tc.Tensor) => tc.Tensor> = {
  abs: tc.abs, neg: tc.neg, sign: tc.sign, square: tc.square, exp: tc.exp, log: tc.log, log1p: tc.log1p,
  sqrt: tc.sqrt, rsqrt: tc.rsqrt, sin: tc.sin, cos: tc.cos, tanh: tc.tanh, sigmoid: tc.sigmoid, erf: tc.erf,
  geluExact: (a) => tc.gelu(a), geluTanh: (a) => tc.gelu(a, "tanh"), silu: tc.silu, relu: tc.relu,
  softplus: tc.softplus, round: tc.round, floor: tc.floor, ceil: tc.ceil, reciprocal: tc.reciprocal,
  logicalNot: tc.logicalNot,
};
const BINARY: Record<string, (a: tc.TensorLike, b: tc.TensorLike) => tc.Tensor> = {
  add: tc.add, subtract: tc.subtract, multiply: tc.multiply, divide: tc.divide, floorDivide: tc.floorDivide,
  remainder: tc.remainder, power: tc.power, maximum: tc.maximum, minimum: tc.minimum, equal: tc.equal,
  notEqual: tc.notEqual, less: tc.less, lessEqual: tc.lessEqual, greater: tc.greater, greaterEqual: tc.greaterEqual,
  logicalAnd: tc.logicalAnd, logicalOr: tc.logicalOr,
};

// A view applied to a fixture input: transpose axes, or a slice.
type View = number[] | { start: number[]; stop: number[]; step: number[] } | null;

function view(t: tc.Tensor, v: View | undefined): tc.Tensor {
  if (!v) return t;
  return Array.isArray(v) ? tc.transpose(t, v) : tc.callOp("slice", [t], v);
}

function run(c: RefCase): tc.Tensor {
  const views = (c.attrs.views as View[] | undefined) ?? [];
  const x = c.inputs.map((r, i) => view(fromRef(r), views[i]));
  if (c.op in UNARY) return UNARY[c.op](x[0]);
  if (c.op in BINARY) return BINARY[c.op](x[0], x[1]);
  if (c.op === "where") return tc.where(x[0], x[1], x[2]);
  if (c.op === "clip") return tc.clip(x[0], x[1], x[2]);
  if (c.op === "astype") return tc.astype(x[0], c.attrs.dtype as tc.DType);
  throw new Error(`fixture op ${c.op} has no runner`);
}

const { cases } = loadFixture("core/elementwise.json");

describe("elementwise ops match NumPy", () => {
  it("the fixtures cover every unary and binary op, where, clip and every astype pair", () => {
    const ops = new Set(cases.map((c) => c.op));
    for (const op of [...Object.keys(UNARY), ...Object.keys(BINARY), "where", "clip"]) expect(ops, op).toContain(op);
    const casts = new Set(cases.filter((c) => c.op === "astype").map((c) => `${c.inputs[0].dtype}->${c.attrs.dtype as string}`));
    expect(casts.size).toBe(tc.DTYPES.length ** 2);
  });

  for (const c of cases) {
    it(c.name, () => {
      expectClose(run(c), c.expected, { rtol: c.rtol, atol: c.atol, label: c.name });
    });
  }
});

/** The values of a tensor as plain numbers. */
const vals = (t: tc.Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);
const bits = (t: tc.Tensor): number[] => Array.from(t.dataSync() as Float32Array, (v) => (Object.is(v, -0) ? -1 : 1));

describe("signed zeros and special values", () => {
  it("keeps the sign of zero where the function is odd", () => {
    const z = tc.tensor(new Float32Array([-0, 0]));
    const odd = { sin: tc.sin, tanh: tc.tanh, erf: tc.erf, log1p: tc.log1p, round: tc.round, floor: tc.floor, ceil: tc.ceil, silu: tc.silu };
    for (const [name, f] of Object.entries(odd)) expect(bits(f(z)), name).toEqual([-1, 1]);
    expect(bits(tc.neg(z))).toEqual([1, -1]);
    expect(bits(tc.square(z))).toEqual([1, 1]);
    expect(bits(tc.abs(z))).toEqual([1, 1]);
    expect(tc.reciprocal(z).tolist()).toEqual([-Infinity, Infinity]);
    expect(tc.rsqrt(z).tolist()).toEqual([-Infinity, Infinity]);
    expect(tc.sign(tc.tensor([-0, NaN, -3])).tolist()).toEqual([0, NaN, -1]);
  });

  it("gives the limits at infinities", () => {
    const x = tc.tensor([-Infinity, Infinity]);
    // x * sigmoid(x) -> 0 from below: -0, as x * 0 would be.
    expect(tc.silu(x).tolist()).toEqual([-0, Infinity]);
    expect(tc.gelu(x).tolist()).toEqual([-0, Infinity]);
    expect(tc.gelu(x, "tanh").tolist()).toEqual([-0, Infinity]);
    expect(tc.softplus(x).tolist()).toEqual([0, Infinity]);
    expect(tc.sigmoid(x).tolist()).toEqual([0, 1]);
    expect(tc.tanh(x).tolist()).toEqual([-1, 1]);
    expect(tc.exp(x).tolist()).toEqual([0, Infinity]);
  });

  it("documents integer division by zero: floorDivide and remainder give 0, divide gives float inf/nan", () => {
    const a = tc.tensor([5, -5, 0]);
    expect(tc.floorDivide(a, 0).tolist()).toEqual([0, 0, 0]);
    expect(tc.remainder(a, 0).tolist()).toEqual([0, 0, 0]);
    expect(tc.divide(a, 0).tolist()).toEqual([Infinity, -Infinity, NaN]);
    expect(tc.floorDivide(a.astype("int64"), 0).tolist()).toEqual([0, 0, 0]);
  });
});

describe("type promotion", () => {
  it("promotes tensor pairs as MLX does", () => {
    const t = (dt: tc.DType) => tc.ones([2], dt);
    const cases: [tc.DType, tc.DType, tc.DType][] = [
      ["int8", "uint8", "int16"], ["uint32", "int32", "int64"], ["float16", "bfloat16", "float32"],
      ["int32", "float16", "float16"], ["bool", "uint8", "uint8"], ["int64", "bfloat16", "bfloat16"],
      ["uint8", "uint32", "uint32"], ["int16", "uint32", "int64"], ["float16", "float32", "float32"],
    ];
    for (const [a, b, out] of cases) {
      expect(tc.add(t(a), t(b)).dtype, `${a} + ${b}`).toBe(out);
      expect(tc.multiply(t(b), t(a)).dtype, `${b} * ${a}`).toBe(out);
    }
    expect(tc.divide(t("int32"), t("int8")).dtype).toBe("float32");
    expect(tc.less(t("int8"), t("float16")).dtype).toBe("bool");
    expect(tc.logicalAnd(t("float32"), t("int32")).dtype).toBe("bool");
    expect(tc.exp(t("int16")).dtype).toBe("float32");
    expect(tc.abs(t("int16")).dtype).toBe("int16");
    expect(tc.where(true, t("int8"), t("float16")).dtype).toBe("float16");
  });

  it("treats JS scalars as weak", () => {
    const h = tc.tensor([1.5, 2.5], { dtype: "float16" });
    expect(tc.add(h, 2.25).dtype).toBe("float16");
    expect(tc.add(h, 2.25).tolist()).toEqual([3.75, 4.75]);
    expect(tc.multiply(3, tc.ones([2], "bfloat16")).dtype).toBe("bfloat16");
    const i8 = tc.tensor([100, -100], { dtype: "int8" });
    expect(tc.add(i8, 3).dtype).toBe("int8");
    expect(tc.add(i8, 30).tolist()).toEqual([-126, -70]); // wraps like NumPy
    expect(tc.add(i8, 2.5).dtype).toBe("float32");
    expect(tc.add(i8, 2.5).tolist()).toEqual([102.5, -97.5]);
    expect(tc.add(tc.tensor([true]), 1).dtype).toBe("int32");
    expect(tc.maximum(tc.tensor([1, 2], { dtype: "uint8" }), true).dtype).toBe("uint8");
    expect(tc.add(2, 3).dtype).toBe("int32");
    expect(tc.add(2, 0.5).dtype).toBe("float32");
    expect(tc.where(tc.tensor([true, false]), 1, tc.ones([2], "int16")).dtype).toBe("int16");
  });
});

describe("kernel paths agree", () => {
  // Sizes past the parallel threshold (32768) and the block length (1024), with ragged tails.
  const n = 70001;
  const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 6);

  it("contiguous, transposed and strided float32 inputs give identical results", () => {
    const x = tc.tensor(data.subarray(0, 229 * 301), { shape: [229, 301] });
    const xt = tc.copy(tc.transpose(x)); // contiguous copy of the transpose
    for (const f of [tc.exp, tc.tanh, tc.gelu, tc.silu, tc.sin, tc.erf, tc.log1p, tc.softplus]) {
      expect(vals(f(tc.transpose(x)))).toEqual(vals(f(xt)));
    }
    const y = tc.tensor(data.subarray(0, 301), { shape: [301] });
    expect(vals(tc.add(tc.transpose(x), tc.reshape(y, [301, 1])))).toEqual(vals(tc.add(xt, tc.reshape(y, [301, 1]))));
  });

  it("float16 and bfloat16 kernels equal the float32 kernel rounded once", () => {
    for (const dt of ["float16", "bfloat16"] as const) {
      const h = tc.tensor(data, { dtype: dt });
      const f = h.astype("float32");
      for (const op of [tc.exp, tc.tanh, tc.sigmoid, (a: tc.Tensor) => tc.gelu(a, "tanh")]) {
        expect(vals(op(h))).toEqual(vals(op(f).astype(dt)));
      }
      const sum = tc.add(h, tc.multiply(h, 0.5));
      const ref = tc.add(f, tc.multiply(f, 0.5).astype(dt).astype("float32")).astype(dt);
      expect(vals(sum)).toEqual(vals(ref));
      expect(vals(tc.less(h, 1))).toEqual(vals(tc.less(f, 1)));
    }
  });

  it("half conversions round to nearest even on the vector path and the tail", () => {
    // 1 + 2^-11 is halfway between float16 neighbours: ties go to the even 1; 1 + 3 * 2^-11 rounds up.
    const v = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, -65519, 1e-8, NaN, 3e-5, 0.1, 2049];
    const x = tc.tensor(v.concat(v));
    const e = [1, 1 + 2 ** -9, Infinity, -65504, 0, NaN, 2.9981136322021484e-5, 0.0999755859375, 2048];
    expect(x.astype("float16").tolist()).toEqual([...e, ...e]);
    const bf = tc.tensor(v.concat(v)).astype("bfloat16").rawHalfBits();
    expect(Array.from(bf.subarray(0, 9))).toEqual(Array.from(bf.subarray(9)));
  });

  it("properties: commutativity, identities and inverses", () => {
    const a = tc.tensor(data.subarray(0, 4000), { shape: [40, 100] });
    const b = tc.tensor(data.subarray(4000, 4100), { shape: [100] });
    for (const f of [tc.add, tc.multiply, tc.maximum, tc.minimum, tc.equal]) {
      expect(vals(f(a, b))).toEqual(vals(f(b, a)));
    }
    expect(vals(tc.subtract(a, a)).every((v) => v === 0)).toBe(true);
    const pos = tc.add(tc.abs(a), 0.01);
    expectClose(tc.exp(tc.log(pos)), { shape: [40, 100], dtype: "float32", data: vals(pos) }, { rtol: 3e-6 });
    const s = tc.sin(a), c = tc.cos(a);
    const one = vals(tc.add(tc.square(s), tc.square(c)));
    expect(Math.max(...one.map((v) => Math.abs(v - 1)))).toBeLessThan(3e-7);
    const q = tc.floorDivide(a, 0.7), r = tc.remainder(a, 0.7);
    expectClose(tc.add(tc.multiply(q, 0.7), r), { shape: [40, 100], dtype: "float32", data: vals(a) }, { rtol: 1e-5, atol: 2e-6 });
  });
});

describe("bad input", () => {
  it("names both shapes when they do not broadcast", () => {
    expect(() => tc.add(tc.ones([2, 3]), tc.ones([4]))).toThrow(/^add: shapes \[2, 3\] and \[4\] cannot be broadcast together$/);
    expect(() => tc.less(tc.ones([2, 3, 4]), tc.ones([3, 1, 1]))).toThrow(/less: shapes \[2, 3, 4\] and \[3, 1, 1\]/);
    expect(() => tc.where(tc.ones([2], "bool"), tc.ones([3]), 0)).toThrow(/where: shapes \[2\] and \[3\] cannot be broadcast/);
    expect(() => tc.clip(tc.ones([4]), tc.zeros([3]), 1)).toThrow(/maximum: shapes \[4\] and \[3\]/);
  });

  it("rejects arguments that are not tensors or scalars", () => {
    const t = tc.ones([2]);
    expect(() => tc.add(t, "1" as unknown as number)).toThrow(/^add: the second argument must be a Tensor, a number or a boolean, got string 1$/);
    expect(() => tc.multiply([1, 2] as unknown as number, t)).toThrow(/multiply: the first argument must be .*got an array \(wrap it with tensor\(\)\)/);
    expect(() => tc.exp(3 as unknown as tc.Tensor)).toThrow(/^exp: the argument must be a Tensor, got number 3$/);
    expect(() => tc.sqrt(null as unknown as tc.Tensor)).toThrow(/sqrt: the argument must be a Tensor, got null/);
    expect(() => tc.gelu(t, "erf" as "none")).toThrow(/gelu: approximate must be "none" or "tanh", got string erf/);
    expect(() => tc.where({} as unknown as tc.Tensor, t, t)).toThrow(/where: the condition must be .*got a Object/);
    expect(() => tc.clip(undefined as unknown as tc.Tensor, 0, 1)).toThrow(/clip: the array must be a Tensor, got undefined/);
    expect(() => tc.astype(t, "float64" as tc.DType)).toThrow(/dtype must be one of .* got float64/);
  });

  it("rejects integer scalars outside the tensor's dtype and invalid bool arithmetic", () => {
    expect(() => tc.add(tc.ones([2], "uint8"), 300)).toThrow(/add: the scalar 300 is out of range for the uint8 tensor/);
    expect(() => tc.subtract(-1, tc.ones([2], "uint32"))).toThrow(/subtract: the scalar -1 is out of range for the uint32/);
    expect(() => tc.subtract(tc.ones([2], "bool"), tc.ones([2], "bool"))).toThrow(/subtract: cannot subtract bool arrays/);
    expect(() => tc.neg(tc.ones([2], "bool"))).toThrow(/neg: cannot negate a bool array/);
  });
});
