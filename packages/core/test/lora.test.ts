// nn/lora.ts: a low-rank update fused into a Linear / Conv2d weight gives the same output as the
// run-time path, which also runs over a QuantizedLinear and a GgmlLinear (ggml blocks); DoRA
// rescales rows to the magnitude with the bias outside; updates that do not fit are named.
import { describe, expect, it } from "vitest";
import * as tc from "../src/index.js";

const { nn } = tc;
const close = (a: tc.Tensor, b: tc.Tensor) => tc.max(tc.abs(tc.subtract(a, b))).item() as number;

describe("low-rank updates", () => {
  const [k1, k2, k3, k4] = [31, 32, 33, 34].map((s) => tc.random.key(s));

  it("Linear: fused equals run time equals x W^T + scale x (up down)^T", () => {
    const lin = new nn.Linear(6, 5);
    const x = tc.random.normal([2, 3, 6], { key: k1 });
    const u = { down: tc.random.normal([2, 6], { key: k2 }), up: tc.random.normal([5, 2], { key: k3 }), scale: 0.7 };
    const base = lin.forward(x);
    const expected = tc.add(base, tc.multiply(tc.matmul(x, tc.matmul(u.up, u.down).T), 0.7));
    nn.setLowRank(lin, [u, { ...u, scale: -0.2 }]);
    const runTime = lin.forward(x);
    nn.setLowRank(lin, []);
    expect(close(lin.forward(x), base)).toBe(0);
    nn.fuseLowRank(lin, [u, { ...u, scale: -0.2 }]);
    const fused = lin.forward(x);
    const both = tc.add(base, tc.multiply(tc.matmul(x, tc.matmul(u.up, u.down).T), 0.5));
    expect(close(runTime, both)).toBeLessThan(1e-5);
    expect(close(fused, both)).toBeLessThan(1e-5);
    expect(close(expected, both)).toBeGreaterThan(1e-3);
    expect(Object.keys(lin.namedParameters())).toEqual(["weight", "bias"]);
  });

  it("Conv2d 3x3 stride 2: fused equals run time (channels-last factors)", () => {
    const conv = new nn.Conv2d(4, 3, 3, { stride: 2, padding: 1 });
    const x = tc.random.normal([1, 6, 6, 4], { key: k1 });
    const u = { down: tc.random.normal([2, 3, 3, 4], { key: k2 }), up: tc.random.normal([3, 2], { key: k3 }), scale: 0.5 };
    nn.setLowRank(conv, [u]);
    const runTime = conv.forward(x);
    nn.setLowRank(conv, []);
    const base = conv.forward(x);
    nn.fuseLowRank(conv, [u]);
    expect(close(conv.forward(x), runTime)).toBeLessThan(1e-4);
    expect(close(base, runTime)).toBeGreaterThan(1e-2);
  });

  it("QuantizedLinear: run time only, within the quantization error of the fused float layer", () => {
    const lin = new nn.Linear(64, 8);
    const x = tc.random.normal([3, 64], { key: k4 });
    const u = { down: tc.random.normal([4, 64], { key: k2 }), up: tc.multiply(tc.random.normal([8, 4], { key: k3 }), 0.1), scale: 1 };
    const q = nn.QuantizedLinear.fromLinear(lin, { bits: 8, groupSize: 32 });
    nn.fuseLowRank(lin, [u]);
    nn.setLowRank(q, [u]);
    expect(close(q.forward(x), lin.forward(x))).toBeLessThan(2e-2);
    expect(() => nn.fuseLowRank(q as unknown as tc.nn.Linear, [u])).toThrow(/cannot fuse into quantized weights/);
  });

  it("GgmlLinear: run time adds the update to the blocks' matmul; fusedLinear is the dequantized layer plus it", () => {
    const g = nn.GgmlLinear.fromLinear(new nn.Linear(64, 8), "Q8_0");
    const x = tc.random.normal([3, 64], { key: k4 });
    const u = { down: tc.random.normal([4, 64], { key: k2 }), up: tc.random.normal([8, 4], { key: k3 }), scale: 0.3 };
    const delta = tc.multiply(tc.matmul(x, tc.matmul(u.up, u.down).T), 0.3);
    const expected = tc.add(g.forward(x), delta);
    nn.setLowRank(g, [u]);
    expect(close(g.forward(x), expected)).toBeLessThan(1e-4);
    const fused = nn.fusedLinear(g);
    expect(fused).toBeInstanceOf(nn.Linear);
    const dense = tc.add(tc.add(tc.matmul(x, nn.dequantizedWeight(g).T), g.bias!), delta);
    expect(close(fused.forward(x), dense)).toBeLessThan(1e-4);
    // ggml's matmul quantizes x to 8 bits: within that of the float result.
    expect(close(fused.forward(x), expected)).toBeLessThan(2e-2);
  });

  it("DoRA: rows rescaled to the magnitude, the bias outside the rescaling (run time and fusedLinear)", () => {
    const lin = new nn.Linear(6, 5);
    const x = tc.random.normal([2, 6], { key: k1 });
    const u = { down: tc.random.normal([2, 6], { key: k2 }), up: tc.random.normal([5, 2], { key: k3 }), scale: 0.5,
      magnitude: tc.add(tc.abs(tc.random.normal([5], { key: k4 })), 0.5) };
    // PEFT's DoRA: W' = m * (W + dW) / |W + dW| (row norms), y = x W'^T + b.
    const adapted = tc.add(lin.weight, tc.multiply(tc.matmul(u.up, u.down), 0.5));
    const norms = tc.sqrt(tc.sum(tc.square(adapted), 1, true));
    const expected = tc.add(tc.matmul(x, tc.multiply(adapted, tc.divide(tc.expandDims(u.magnitude, 1), norms)).T), lin.bias!);
    nn.setLowRank(lin, [u]);
    expect(close(lin.forward(x), expected)).toBeLessThan(1e-5);
    expect(close(nn.fusedLinear(lin).forward(x), expected)).toBeLessThan(1e-5);
    expect(() => nn.fuseLowRank(lin, [u])).toThrow(/DoRA/);
    expect(() => nn.setLowRank(lin, [{ ...u, magnitude: tc.ones([4]) }], "q_proj")).toThrow(/q_proj: a DoRA magnitude \[4\] does not fit/);
  });

  it("an update of the wrong shape names both shapes", () => {
    const lin = new nn.Linear(6, 5);
    expect(() => nn.setLowRank(lin, [{ down: tc.zeros([2, 7]), up: tc.zeros([5, 2]), scale: 1 }], "to_q"))
      .toThrow(/to_q: a low-rank update with down \[2, 7\] and up \[5, 2\] does not fit a Linear with weight \[5, 6\]/);
  });
});
