// Tiled VAE decode / encode against diffusers' enable_tiling() on the tiny SD 1.5 VAE
// (tools/reference/gen_diffusion_vae_tiling.py; NCHW fixtures), and its memory bound.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as tc from "@tessera/core";
import { fixturesDir, fromRef, loadFixture, relError } from "../../../test/helpers/reference.js";
import type { RefArray } from "../../../test/helpers/reference.js";
import { decodeLatents, loadDiffusersFolder, networksFrom } from "../src/index.js";

interface Refs {
  tiling: { sample_tile: number; latent_tile: number; overlap: number };
  decode: { latents: RefArray; sample: RefArray; untiled: RefArray };
  encode: { image: RefArray; mean: RefArray; logvar: RefArray; untiled_mean: RefArray };
}
const ref = loadFixture<Refs>("diffusion/vae_tiling.json");
const nhwc = (r: RefArray) => tc.transpose(fromRef(r), [0, 2, 3, 1]);
const nchw = (t: tc.Tensor) => tc.transpose(t, [0, 3, 1, 2]);


describe("tiled VAE (diffusers' enable_tiling)", () => {
  const { vae } = loadDiffusersFolder(join(fixturesDir, "diffusion", "sd15"));

  it("uses diffusers' default tile geometry (sample_size, / scale, 0.25)", () => {
    expect(vae.defaultTiling).toEqual({ sampleTile: ref.tiling.sample_tile, latentTile: ref.tiling.latent_tile, overlap: ref.tiling.overlap });
  });

  it("decodes as diffusers' tiled_decode, and differently from the untiled decode", async () => {
    const out = nchw(await vae.decodeTiled(nhwc(ref.decode.latents)));
    expect(relError(out, ref.decode.sample)).toBeLessThan(1e-5);
    expect(relError(out, ref.decode.untiled)).toBeGreaterThan(1e-3);
  });

  it("encodes as diffusers' tiled encode (mean and log-variance)", async () => {
    const d = await vae.encodeTiled(nhwc(ref.encode.image));
    expect(relError(nchw(d.mean), ref.encode.mean)).toBeLessThan(1e-5);
    expect(relError(nchw(d.logvar), ref.encode.logvar)).toBeLessThan(1e-5);
    expect(relError(nchw(d.mean), ref.encode.untiled_mean)).toBeGreaterThan(1e-3);
  });

  it("leaves inputs of one tile or less untiled", async () => {
    const z = tc.random.normal([1, 8, 6, 4], { key: tc.random.key(1) });
    expect(await (await vae.decodeTiled(z)).data()).toEqual(await vae.decode(z).data());
  });

  it("bounds peak memory by the tile size, not the image size", async () => {
    const peak = async (side: number, tiled: boolean): Promise<{ peak: number; out: number }> => {
      const z = tc.random.normal([1, side, side, 4], { key: tc.random.key(side) });
      await tc.evaluate(z);
      tc.memory.resetPeak();
      const base = tc.memory.stats().active;
      const img = tiled ? await vae.decodeTiled(z) : tc.tidy(() => vae.decode(z));
      await tc.evaluate(img);
      const p = tc.memory.stats().peak - base;
      img.dispose();
      z.dispose();
      return { peak: p, out: side * side * 4 * 3 * 4 };
    };
    const small = await peak(24, true);
    const large = await peak(72, true);
    const untiled = await peak(72, false);
    // 9x the area: beyond output-sized buffers (the kept uncropped tiles, 1.78x the output, the
    // joined rows and the result) the tiled decode's peak must not grow; the untiled one grows with
    // the image (every activation is image-sized).
    expect(large.peak - 4 * large.out).toBeLessThanOrEqual(small.peak);
    expect(untiled.peak).toBeGreaterThan(4 * large.peak);
  });

  it("the pipeline decodes in tiles when asked (per call, or for every call from the load option)", async () => {
    const c = loadDiffusersFolder(join(fixturesDir, "diffusion", "sd15"));
    // decodeLatents maps to [0, 1] and clips; back to [-1, 1] against the clipped references.
    const clipped = (r: RefArray): RefArray => ({ ...r, data: (r.data as number[]).map((v) => Math.min(1, Math.max(-1, v))) });
    const z = tc.multiply(nhwc(ref.decode.latents), c.vae.config.scaling_factor);
    const tiled = nchw(tc.subtract(tc.multiply(await decodeLatents(networksFrom(c), z, { vaeTiling: true }), 2), 1));
    expect(relError(tiled, clipped(ref.decode.sample))).toBeLessThan(1e-5);
    const always = networksFrom(c, { vaeTiling: true });
    expect(relError(nchw(tc.subtract(tc.multiply(await decodeLatents(always, z), 2), 1)), clipped(ref.decode.sample))).toBeLessThan(1e-5);
    const off = nchw(tc.subtract(tc.multiply(await decodeLatents(always, z, { vaeTiling: false }), 2), 1));
    expect(relError(off, clipped(ref.decode.untiled))).toBeLessThan(1e-5);
  });

  it("rejects a bad tiling", async () => {
    const z = tc.zeros([1, 20, 20, 4]);
    await expect(vae.decodeTiled(z, { sampleTile: 16, latentTile: 0, overlap: 0.25 })).rejects.toThrow(/latentTile/);
    await expect(vae.decodeTiled(z, { sampleTile: 16, latentTile: 8, overlap: 1 })).rejects.toThrow(/overlap/);
  });
});
