import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    // Native kernels use both cores; running test files one at a time keeps timings and memory sane.
    fileParallelism: false,
    testTimeout: 120_000,
    pool: "forks",
  },
});
