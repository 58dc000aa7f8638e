// Every sampler against diffusers' scheduler classes running the same loop with the same fake model
// (fixtures: tools/reference/gen_diffusion_schedulers.py), plus names, aliases and bad options.
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { createSampler, defaultSampler, parseSampler, parseSigmaSchedule } from "../src/schedulers/index.js";
import type { NoiseSource, SchedulerConfig } from "../src/schedulers/index.js";
import { expectClose, fromRef, loadFixture } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";

interface LoopCase {
  name: string; sampler: string; sigmas: string | null; steps: number; config: SchedulerConfig;
  strength: number | null; startIndex: number; timesteps: number[]; sigmaValues: number[] | null;
  initNoiseSigma: number; noise: RefArray[]; final: RefArray; eta?: number | null;
}
const fx = loadFixture<{ w: RefArray; latents: RefArray; imageLatents: RefArray; cases: LoopCase[] }>("diffusion/schedulers/loops.json");
const w = fromRef(fx.w);

/** The fixture's fake model: 0.9 * x + (0.1 + t / 2000) * w. */
function fakeModel(x: tc.Tensor, t: number): tc.Tensor {
  return tc.add(tc.multiply(x, 0.9), tc.multiply(w, 0.1 + t / 2000));
}

/** Hands out the recorded draws in order. */
function recordedNoise(draws: RefArray[]): { source: NoiseSource; used: () => number } {
  let i = 0;
  return {
    source: (shape) => {
      if (i >= draws.length) throw new Error(`noise draw ${i} was not recorded`);
      const n = fromRef(draws[i++]);
      expect(n.shape).toEqual([...shape]);
      return n;
    },
    used: () => i,
  };
}

function expectNumbers(actual: readonly number[], expected: readonly number[], rtol: number, atol: number, label: string): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  actual.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]) <= atol + rtol * Math.abs(expected[i])))
      expect.fail(`${label}[${i}]: got ${a}, expected ${expected[i]}`);
  });
}

describe("samplers against diffusers (whole loops, fake model)", () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const noise = recordedNoise(c.noise);
      const sampler = createSampler(c.sampler, {
        steps: c.steps, config: c.config, scheduler: c.sigmas ?? undefined, noise: noise.source, eta: c.eta ?? undefined,
      });
      expectNumbers(sampler.timesteps, c.timesteps, 1e-6, 2e-4, "timesteps");
      if (c.sigmaValues) expectNumbers(sampler.sigmas ?? [], c.sigmaValues, 2e-6, 1e-6, "sigmas");
      else expect(sampler.sigmas).toBeUndefined();
      expect(sampler.initNoiseSigma).toBeCloseTo(c.initNoiseSigma, 4);
      let x: tc.Tensor;
      if (c.strength === null) {
        x = tc.multiply(fromRef(fx.latents), sampler.initNoiseSigma);
      } else {
        expect(c.startIndex).toBe(sampler.order * (c.steps - Math.min(Math.floor(c.steps * c.strength), c.steps)));
        x = sampler.addNoise(fromRef(fx.imageLatents), noise.source(fx.imageLatents.shape, -1), c.startIndex);
      }
      for (let i = c.startIndex; i < sampler.timesteps.length; i++) {
        const t = sampler.timesteps[i];
        x = sampler.step(fakeModel(sampler.scaleModelInput(x, i), t), i, x);
      }
      expect(noise.used(), "noise draws").toBe(c.noise.length);
      // Measured: within 4e-6 absolute (float32 rounding of the scalar coefficients).
      expectClose(x, c.final, { rtol: 2e-5, atol: 1e-5, label: c.name });
    });
  }
});

describe("sampler names", () => {
  it("accepts A1111, sd.cpp, ComfyUI, k-diffusion and diffusers spellings", () => {
    const cases: [string, string, string | undefined][] = [
      ["DPM++ 2M Karras", "dpmpp_2m", "karras"], ["dpm++2m", "dpmpp_2m", undefined], ["dpmpp_2m", "dpmpp_2m", undefined],
      ["DPM++ 2M SDE Karras", "dpmpp_2m_sde", "karras"], ["dpmpp_2m_sde_gpu", "dpmpp_2m_sde", undefined],
      ["Euler a", "euler_a", undefined], ["euler_a", "euler_a", undefined], ["euler_ancestral", "euler_a", undefined],
      ["k_euler", "euler", undefined], ["k_euler_a", "euler_a", undefined], ["k_lms", "lms", undefined],
      ["LMS Karras", "lms", "karras"], ["Heun", "heun", undefined], ["DDIM", "ddim", undefined], ["LCM", "lcm", undefined],
      ["EulerDiscreteScheduler", "euler", undefined], ["DPMSolverMultistepScheduler", "dpmpp_2m", undefined],
      ["euler exponential", "euler", "exponential"], ["PLMS", "pndm", undefined], ["PNDMScheduler", "pndm", undefined],
    ];
    for (const [name, sampler, sigmas] of cases) {
      const spec = parseSampler(name);
      expect(spec.sampler, name).toBe(sampler);
      expect(spec.sigmas, name).toBe(sigmas);
    }
    expect(parseSampler("ddim_trailing")).toEqual({ sampler: "ddim", spacing: "trailing" });
    expect(parseSigmaSchedule("Karras")).toBe("karras");
    expect(parseSigmaSchedule("normal")).toBe("default");
  });

  it("names the known samplers for an unknown one", () => {
    expect(() => parseSampler("unipc")).toThrow(/unknown sampler "unipc".*ddim, euler, euler_a, heun, dpmpp_2m, dpmpp_2m_sde, lms, lcm, pndm/);
    expect(() => parseSampler("")).toThrow(/sampler must be a name/);
    expect(() => parseSigmaSchedule("ays")).toThrow(/unknown scheduler "ays".*karras, exponential/);
  });

  it("picks the config's class, else dpmpp_2m", () => {
    expect(defaultSampler({ _class_name: "EulerDiscreteScheduler" })).toBe("euler");
    expect(defaultSampler({ _class_name: "PNDMScheduler" })).toBe("pndm");
    expect(defaultSampler({ _class_name: "DDPMScheduler" })).toBe("dpmpp_2m");
    expect(defaultSampler({})).toBe("dpmpp_2m");
  });
});

describe("bad sampler options", () => {
  it("rejects steps < 1, too many steps and non-integers", () => {
    expect(() => createSampler("euler", { steps: 0 })).toThrow(/euler: steps must be a positive integer, got 0/);
    expect(() => createSampler("ddim", { steps: 2.5 })).toThrow(/steps must be a positive integer, got 2.5/);
    expect(() => createSampler("dpmpp_2m", { steps: 1001 })).toThrow(/cannot be larger than .*num_train_timesteps \(1000\)/);
    expect(() => createSampler("lcm", { steps: 60 })).toThrow(/original_inference_steps \(50\)/);
  });

  it("rejects Karras sigmas where there are none, and conflicting choices", () => {
    expect(() => createSampler("ddim", { steps: 5, scheduler: "karras" })).toThrow(/ddim has no karras sigmas/);
    expect(() => createSampler("Euler a", { steps: 5, scheduler: "karras" })).toThrow(/euler_a has no karras sigmas/);
    expect(() => createSampler("DPM++ 2M Karras", { steps: 5, scheduler: "exponential" })).toThrow(/asks for karras sigmas/);
  });

  it("rejects bad config values", () => {
    expect(() => createSampler("euler", { steps: 5, config: { beta_schedule: "cosine" as never } })).toThrow(/beta_schedule must be one of linear, scaled_linear, squaredcos_cap_v2/);
    expect(() => createSampler("euler", { steps: 5, config: { prediction_type: "flow" as never } })).toThrow(/prediction_type must be one of/);
    expect(() => createSampler("euler", { steps: 5, config: { steps_offset: "1" as never } })).toThrow(/steps_offset must be a number/);
  });

  it("needs a noise source for samplers that draw noise, and calls in order", () => {
    const x = tc.zeros([1, 2, 2, 4]);
    const s = createSampler("euler_a", { steps: 3 });
    expect(() => s.step(x, 0, x)).toThrow(/euler_a draws noise at each step: pass a noise source/);
    const e = createSampler("euler", { steps: 3 });
    e.step(x, 0, x);
    expect(() => e.step(x, 2, x)).toThrow(/step\(2\) out of order: expected call 1/);
    const bad = createSampler("lcm", { steps: 3, noise: () => tc.zeros([3]) });
    expect(() => bad.step(x, 0, x)).toThrow(/noise source returned shape \[3\], expected \[1, 2, 2, 4\]/);
  });
});
