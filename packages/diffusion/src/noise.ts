// Seeded noise for a batch of images from core's counter-based random numbers. Image i of a batch
// uses seed + i (as A1111 does), so image 2 of `--seed 7 -b 2` is image 1 of `--seed 8`; each image's
// key is split into independent streams for the initial latents, the sampler's per-step noise, the
// VAE encoder's sample and img2img's added noise. The numbers depend only on the seed, never on the
// thread count.
import { concatenate, random, reshape, slice } from "@tessera/core";
import type { Tensor } from "@tessera/core";
import type { NoiseSource } from "./schedulers/index.js";

/** The noise a pipeline run draws; every field can be given instead (tests, reproducing another tool). */
export interface PipelineNoise {
  /** The initial latents of txt2img, or the noise img2img adds to the encoded image: [count, h, w, c]. */
  initial: Tensor;
  /** The sampler's noise at each call, [count, h, w, c]. */
  step: NoiseSource;
  /** The VAE encoder's sample noise (img2img), [count, h, w, c]. */
  encode: Tensor;
}

const STREAMS = { initial: 0, step: 1, encode: 2 } as const;

function row(keys: Tensor, i: number): Tensor {
  return reshape(slice(keys, [i, 0], [i + 1, 2]), [2]);
}

/** Checks a seed and the batch it starts (seed + count - 1 must stay an exact integer). */
export function checkSeed(seed: number, count: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0 || !Number.isSafeInteger(seed + count))
    throw new Error(`seed must be a non-negative integer below 2^53, got ${String(seed)}`);
}

/** The seeded noise of `count` images whose latents have shape [h, w, c] (`latentShape`). */
export function seededNoise(seed: number, count: number, latentShape: readonly [number, number, number]): PipelineNoise {
  checkSeed(seed, count);
  const keys = Array.from({ length: count }, (_, i) => random.split(random.key(seed + i), 3));
  const draw = (stream: number, sub?: number): Tensor => concatenate(keys.map((k) => {
    let key = row(k, stream);
    if (sub !== undefined) key = row(random.split(key, sub + 1), sub); // the sub-th key of the stream
    return random.normal([1, ...latentShape], { key });
  }), 0);
  return {
    initial: draw(STREAMS.initial),
    step: (shape, index) => {
      const n = draw(STREAMS.step, index);
      if (shape.length !== 4 || shape[0] !== count || shape.slice(1).some((d, i) => d !== latentShape[i]))
        throw new Error(`seeded noise: asked for shape [${shape.join(", ")}], the batch's latents are [${count}, ${latentShape.join(", ")}]`);
      return n;
    },
    encode: draw(STREAMS.encode),
  };
}
