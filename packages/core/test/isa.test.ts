import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";

// The kernel-level dispatcher. Parity of the levels' kernels runs in linalg.test.ts (matmul and
// convolutions at every supported level against float64 references); native/tests/gemm_isa.cc
// covers the AVX-512 kernels on machines without Node.
describe("ISA levels", () => {
  const start = tc.isaLevel();
  afterAll(() => tc.setIsaLevel(start));

  it("reports the supported levels, lowest first, starting at the AVX2 base", () => {
    const levels = tc.supportedIsaLevels();
    expect(levels[0]).toBe("avx2");
    // Each level includes the ones below it, so the supported ones are a prefix of ISA_LEVELS.
    expect(levels).toEqual(tc.ISA_LEVELS.slice(0, levels.length));
    // Unless forced (TESSERA_ISA in the test setup), the runtime starts at the best one.
    expect(start).toBe(process.env.TESSERA_ISA ?? levels[levels.length - 1]);
  });

  it("forces every supported level and reports it, with the same products on each", () => {
    const a = tc.random.normal([37, 70], { key: tc.random.key(1) }), b = tc.random.normal([70, 45], { key: tc.random.key(2) });
    tc.evalSync(a, b);
    const results: Float32Array[] = [];
    for (const level of tc.supportedIsaLevels()) {
      tc.setIsaLevel(level);
      expect(tc.isaLevel()).toBe(level);
      results.push(tc.matmul(a, b).dataSync() as Float32Array);
    }
    // Levels differ only in float32 rounding (tile shapes change the order of nothing within a
    // k-block, but the FMA chains do): far below the products' size.
    for (const r of results.slice(1))
      for (let i = 0; i < r.length; i++) expect(Math.abs(r[i] - results[0][i])).toBeLessThan(1e-4);
  });

  it("rejects an unknown level, listing the known ones", () => {
    expect(() => tc.setIsaLevel("avx1024" as tc.IsaLevel)).toThrow(
      "setIsaLevel: unknown ISA level 'avx1024' (expected one of 'avx2', 'avx512', 'avx512_vnni')",
    );
    expect(() => tc.setIsaLevel(3 as unknown as tc.IsaLevel)).toThrow(/setIsaLevel: expected one of avx2, avx512, avx512_vnni, got 3/);
  });

  it("rejects a level the CPU lacks, naming the missing features and keeping the current level", () => {
    const supported = tc.supportedIsaLevels();
    const missing = tc.ISA_LEVELS.filter((l) => !supported.includes(l));
    const before = tc.isaLevel();
    for (const level of missing) {
      expect(() => tc.setIsaLevel(level)).toThrow(
        new RegExp(`setIsaLevel: ISA level '${level}' is not supported by this CPU: it lacks .*AVX512.*\\(supported: ${supported.join(", ")}\\)`),
      );
      expect(tc.isaLevel()).toBe(before);
    }
    // On a machine with every level there is nothing to reject; the names are still checked above.
    expect(missing.length + supported.length).toBe(tc.ISA_LEVELS.length);
  });
});
