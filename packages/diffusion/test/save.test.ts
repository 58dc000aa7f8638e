// A --quantize pipeline saved with save(dir) loads back pre-quantized (no re-quantizing) and
// gives bit-for-bit the freshly quantized pipeline's image; a float one round-trips too.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { loadDiffusion } from "../src/index.js";
import { runCli } from "../src/cli.js";
import { fixturesDir } from "../../../test/helpers/reference.js";

const tmp = mkdtempSync(join(tmpdir(), "tessera-sd-save-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const sd15 = join(fixturesDir, "diffusion", "sd15");
const gen = { steps: 3, guidance: 5, seed: 11, width: 16, height: 16, negativePrompt: "blurry" };

describe("save(dir)", () => {
  it("a quantized pipeline loads back quantized and gives the same image bit for bit", async () => {
    const q = await loadDiffusion(sd15, { quantize: true });
    const out = join(tmp, "q");
    await q.save(out);
    const cfg = JSON.parse(readFileSync(join(out, "unet", "config.json"), "utf8"));
    expect(cfg.quantization).toEqual({ group_size: 32, bits: 8 });
    // The tiny text encoder (width 8) has no Linear of whole 64-groups: it stays float, with no block.
    expect(JSON.parse(readFileSync(join(out, "text_encoder", "config.json"), "utf8")).quantization).toBeUndefined();
    const back = await loadDiffusion(out);
    const quantized = (p: typeof q) => p.components.unet.modules().filter((m) => m instanceof tc.nn.QuantizedLinear).length;
    expect(quantized(back)).toBe(quantized(q));
    expect(quantized(back)).toBeGreaterThan(0);
    // Packed weights as saved (re-quantizing a dequantized copy could differ in the last bit).
    const a = q.components.unet.namedParameters();
    const b = back.components.unet.namedParameters();
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k].dtype, k).toBe(a[k].dtype);
    const [x, y] = [await q.txt2img("a red fox", gen), await back.txt2img("a red fox", gen)];
    expect(Buffer.from(y[0].data).equals(Buffer.from(x[0].data))).toBe(true);
    const float = await loadDiffusion(sd15);
    expect(Buffer.from((await float.txt2img("a red fox", gen))[0].data).equals(Buffer.from(x[0].data))).toBe(false);
  });

  it("sd convert --quantize -m <model> -o <folder> writes a folder that loads quantized", async () => {
    const out = join(tmp, "cli");
    let stdout = "";
    let stderr = "";
    const code = await runCli(["convert", "--quantize", "-m", sd15, "-o", out], {
      loadModel: (source, o) => loadDiffusion(source, { quantize: o.quantize }),
      stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) },
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe(`${out}\n`);
    const back = await loadDiffusion(out);
    expect(back.components.unet.modules().some((m) => m instanceof tc.nn.QuantizedLinear)).toBe(true);
    const again = await runCli(["convert", "-m", sd15, "-o", out], { loadModel: () => Promise.reject(new Error("unused")), stdout: { write: () => 0 }, stderr: { write: () => 0 } });
    expect(again).toBe(2);
  });

  it("refuses a non-empty folder", async () => {
    const p = await loadDiffusion(sd15);
    await expect(p.save(sd15)).rejects.toThrow(/not empty/);
  });
});
