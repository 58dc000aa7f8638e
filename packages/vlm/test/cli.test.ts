// The `vlm` command on the tiny LLaVA fixture: its answer equals vlm.generate's, mlx-vlm's flag
// spellings work, and bad usage exits 2 with a message.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { loadVlm, runVlmCli } from "../src/index.js";
import type { Vlm } from "../src/index.js";

const dir = join(fixturesDir, "vlm", "llava");
const img = (f: string) => join(fixturesDir, "vlm", "images", f);

function sink() {
  let text = "";
  return { write: (s: string) => { text += s; return true; }, get text() { return text; } };
}

describe("vlm command", () => {
  let vlm: Vlm;
  beforeAll(async () => { vlm = await loadVlm(dir); });
  const run = async (argv: string[]) => {
    const stdout = sink(), stderr = sink();
    let loaded = "";
    const code = await runVlmCli(argv, { loadModel: async (m) => { loaded = m; return vlm; }, stdout, stderr });
    return { code, out: stdout.text, err: stderr.text, loaded };
  };

  it("answers about two images as vlm.generate does, speed on stderr", async () => {
    const want = await vlm.generate([img("wide.png"), img("tall.png")], "Compare these.", { maxTokens: 12 });
    const r = await run(["--model", dir, "--image", img("wide.png"), "--image", img("tall.png"), "--prompt", "Compare these.", "--max-tokens", "12"]);
    expect(r.code).toBe(0);
    expect(r.loaded).toBe(dir);
    expect(r.out).toBe(want.text);
    expect(r.err).toMatch(/Prompt: \d+ tokens, [\d.]+ tokens-per-sec\nGeneration: 12 tokens/);
  });

  it("takes mlx-vlm's spellings: several paths after one --image, --max_tokens, --temperature", async () => {
    const want = await vlm.generate([img("wide.png"), img("gray.png")], "What?", { maxTokens: 6, temperature: 0.8, seed: 3 });
    const r = await run(["--model", dir, "--image", img("wide.png"), img("gray.png"), "--prompt", "What?", "--max_tokens", "6", "--temperature", "0.8", "--seed", "3", "--verbose", "false"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${want.text}\n`);
  });

  it("exits 2 on bad usage and 1 on a failed run, saying why", async () => {
    expect((await run(["--model", dir, "--image", img("wide.png")])).err).toMatch(/needs --prompt/);
    const bad = await run(["--model", dir, "--prompt", "x", "--max-tokens", "many"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/max-tokens/);
    const missing = await run(["--model", dir, "--image", img("nope.png"), "--prompt", "x"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope\.png/);
  });
});
