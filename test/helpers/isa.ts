// Kernel-level helpers for tests: TESSERA_ISA=<level> (read here, never by the library) runs the
// suite at that level (vitest.config.ts loads this file first), and forEachIsaLevel runs a block
// of parity tests once per level this machine supports.
import { afterAll, beforeAll, describe } from "vitest";
import * as tc from "@tessera/core";

const forced = process.env.TESSERA_ISA;
if (forced) tc.setIsaLevel(forced as tc.IsaLevel);

/** `describe(name (level), body)` for every supported ISA level, the kernels forced to that level inside. */
export function forEachIsaLevel(name: string, body: () => void): void {
  for (const level of tc.supportedIsaLevels()) {
    describe(`${name} (${level})`, () => {
      let before: tc.IsaLevel = tc.isaLevel();
      beforeAll(() => {
        before = tc.isaLevel();
        tc.setIsaLevel(level);
      });
      afterAll(() => tc.setIsaLevel(before));
      body();
    });
  }
}
