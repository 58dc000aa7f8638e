// Prints the plain closing line CI reads: "N passed, N failed[, N skipped]".
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0, failed = 0, skipped = 0;
    for (const m of modules)
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === "passed") passed++;
        else if (s === "failed") failed++;
        else skipped++;
      }
    const errors = modules.filter((m) => m.state() === "failed" && ![...m.children.allTests()].length).length;
    process.stdout.write(`\n${passed} passed, ${failed + errors} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  }
}
