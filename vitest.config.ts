import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, so a stale dist/ never hides a change.
    alias: { "@tessera/core": src("core"), "@tessera/whisper": src("whisper"),
      "@tessera/lm": src("lm"), "@tessera/vlm": src("vlm"), "@tessera/diffusion": src("diffusion") },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    // TESSERA_ISA=<level> forces the kernels' ISA level for a whole run (test/helpers/isa.ts).
    setupFiles: ["./test/helpers/isa.ts"],
    // Native kernels use both cores; running test files one at a time keeps timings and memory sane.
    fileParallelism: false,
    testTimeout: 120_000,
    pool: "forks",
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
  },
});
