// Where test data lives (no vitest import, so scripts under tools/ and bench/ can use it too).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

/**
 * A file of the shared data folder (`shared/data/...`, beside the checkout or a folder above it; it
 * is not committed), or undefined when there is none (the test says so and skips).
 */
export function sharedDataFile(relPath: string): string | undefined {
  let dir = join(fixturesDir, "..", "..");
  for (let up = 0; up < 4; up++) {
    dir = dirname(dir);
    const p = join(dir, "shared", "data", relPath);
    if (existsSync(p)) return p;
  }
  return undefined;
}
