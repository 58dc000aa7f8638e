// Tiled VAE decode / encode as diffusers' AutoencoderKL with enable_tiling(): overlapping tiles,
// each run through the decoder (encoder) alone and evaluated before the next, then blended linearly
// over the overlap and cropped, so peak memory follows the tile size, not the image size.
import { Tensor, add, arange, concatenate, divide, evaluate, multiply, reshape, slice, subtract, tidy } from "@tessera/core";

/** The tile geometry of diffusers' AutoencoderKL (its defaults: sample_size, that / 2^(blocks-1), 0.25). */
export interface VaeTiling {
  /** Tile side in image pixels (diffusers' tile_sample_min_size: the VAE config's sample_size, 512 for SD 1.5). */
  sampleTile: number;
  /** Tile side in latent pixels (diffusers' tile_latent_min_size: sampleTile / the VAE's scale). */
  latentTile: number;
  /** Fraction of a tile shared with its neighbour (diffusers' tile_overlap_factor, 0.25). */
  overlap: number;
}

/** diffusers' tiling for a VAE of `sampleSize` (its config's sample_size) and scale factor `scale`. */
export function defaultVaeTiling(sampleSize: number, scale: number): VaeTiling {
  return { sampleTile: sampleSize, latentTile: Math.trunc(sampleSize / scale), overlap: 0.25 };
}

/** Checks a user's tiling (whole tiles of at least one latent pixel, an overlap in [0, 1)). */
export function checkVaeTiling(t: VaeTiling, scale: number): VaeTiling {
  const ok = Number.isInteger(t.sampleTile) && Number.isInteger(t.latentTile) && t.latentTile >= 1 && t.sampleTile >= scale;
  if (!ok) throw new Error(`vae tiling: sampleTile and latentTile must be positive integers (sampleTile >= ${scale}), got ${t.sampleTile} / ${t.latentTile}`);
  if (!(t.overlap >= 0 && t.overlap < 1)) throw new Error(`vae tiling: overlap must be in [0, 1), got ${t.overlap}`);
  return t;
}

/** b's first `extent` entries along `axis` blended from a's last ones (diffusers' blend_v / blend_h). */
function blend(a: Tensor, b: Tensor, extent: number, axis: 1 | 2): Tensor {
  const e = Math.min(a.shape[axis], b.shape[axis], extent);
  if (e <= 0) return b;
  const part = (t: Tensor, from: number, to: number): Tensor => {
    const start = [0, 0, 0, 0];
    const stop = [...t.shape];
    start[axis] = from;
    stop[axis] = to;
    return slice(t, start, stop);
  };
  const shape = [1, 1, 1, 1];
  shape[axis] = e;
  const w = reshape(divide(arange(e, "float32"), e), shape);
  const tail = part(a, a.shape[axis] - e, a.shape[axis]);
  const head = part(b, 0, e);
  const mixed = add(multiply(tail, subtract(1, w)), multiply(head, w));
  return e === b.shape[axis] ? mixed : concatenate([mixed, part(b, e, b.shape[axis])], axis);
}

/**
 * Runs `fn` on overlapping tiles of x [B, H, W, C] (side `inTile`, stride `inTile * (1 - overlap)`),
 * whose outputs have side `outTile`; blends each output with the ones above and to the left over
 * `outTile * overlap` pixels, crops it to `outTile - blend` and joins them. Each tile is evaluated
 * before the next is built, so only one tile's intermediates are alive at a time.
 */
export async function runTiled(x: Tensor, fn: (tile: Tensor) => Tensor, inTile: number, outTile: number, overlap: number): Promise<Tensor> {
  const stride = Math.trunc(inTile * (1 - overlap));
  const extent = Math.trunc(outTile * overlap);
  const limit = outTile - extent;
  if (stride < 1) throw new Error(`vae tiling: a tile of ${inTile} with overlap ${overlap} never advances`);
  const [b, h, w, c] = x.shape;
  const rows: Tensor[][] = [];
  for (let i = 0; i < h; i += stride) {
    const row: Tensor[] = [];
    for (let j = 0; j < w; j += stride) {
      // tidy: the tile's intermediates lose their JS handles, so their buffers go once consumed.
      const tile = tidy(() => {
        let t = fn(slice(x, [0, i, j, 0], [b, Math.min(i + inTile, h), Math.min(j + inTile, w), c]));
        // Blends use the neighbours after their own blending, as diffusers' in-place blend_v / blend_h.
        if (rows.length) t = blend(rows[rows.length - 1][row.length], t, extent, 1);
        if (row.length) t = blend(row[row.length - 1], t, extent, 2);
        return t;
      });
      await evaluate(tile);
      row.push(tile);
    }
    rows.push(row);
  }
  const crop = (t: Tensor): Tensor => slice(t, [0, 0, 0, 0], [t.shape[0], Math.min(limit, t.shape[1]), Math.min(limit, t.shape[2]), t.shape[3]]);
  const out = tidy(() => concatenate(rows.map((row) => concatenate(row.map(crop), 2)), 1));
  await evaluate(out);
  for (const t of rows.flat()) t.dispose();
  return out;
}
