// LLaVA-NeXT's any-resolution tiling, as transformers' LlavaNextImageProcessor and modeling code do
// it: the grid pinpoint that keeps most of the image's pixels (then wastes the fewest) is chosen,
// the image is resized into it keeping its aspect ratio, centered on black padding and cut into
// tower-sized tiles, after a base tile of the whole image squashed to the tower's size. The model
// later crops the padding's features away again (unpaddedGrid) and ends each feature row with
// image_newline.

/** An image size, height first as transformers writes it. */
export interface ImageSize {
  height: number;
  width: number;
}

/** transformers' select_best_resolution: the [height, width] pinpoint that fits an image best. */
export function selectBestResolution(size: ImageSize, pinpoints: readonly (readonly [number, number])[]): [number, number] {
  const { height: oh, width: ow } = size;
  let best: [number, number] | undefined;
  let maxEffective = 0, minWasted = Infinity;
  for (const [h, w] of pinpoints) {
    const scale = Math.min(w / ow, h / oh);
    const dw = Math.trunc(ow * scale), dh = Math.trunc(oh * scale);
    const effective = Math.min(dw * dh, ow * oh);
    const wasted = w * h - effective;
    if (effective > maxEffective || (effective === maxEffective && wasted < minWasted)) {
      maxEffective = effective;
      minWasted = wasted;
      best = [h, w];
    }
  }
  if (!best) throw new Error("image_grid_pinpoints is empty");
  return best;
}

/** transformers' get_patch_output_size: the image's size inside a pinpoint, aspect ratio kept. */
export function patchOutputSize(size: ImageSize, target: readonly [number, number]): ImageSize {
  const [th, tw] = target;
  const sw = tw / size.width, sh = th / size.height;
  return sw < sh
    ? { height: Math.min(Math.ceil(size.height * sw), th), width: tw }
    : { height: th, width: Math.min(Math.ceil(size.width * sh), tw) };
}

// Python's int(round(x, 7)) for x >= 0.
const round7 = (x: number) => Math.trunc(Number(x.toFixed(7)));

/**
 * transformers' unpad_image on a feature grid of `grid` rows x columns for an image of `size`:
 * the rows (or columns) kept, [start, end).
 */
export function unpaddedGrid(size: ImageSize, grid: ImageSize): { rows: [number, number]; cols: [number, number] } {
  const { height: ch, width: cw } = grid;
  if (size.width / size.height > cw / ch) {
    const pad = Math.floor((ch - round7(size.height * (cw / size.width))) / 2);
    return { rows: [pad, ch - pad], cols: [0, cw] };
  }
  const pad = Math.floor((cw - round7(size.width * (ch / size.height))) / 2);
  return { rows: [0, ch], cols: [pad, cw - pad] };
}

/** Parses image_grid_pinpoints (a list of [height, width]), naming what was wrong. */
export function parsePinpoints(v: unknown, where: string): [number, number][] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => Number.isInteger(x) && x > 0)))
    throw new Error(`${where}: image_grid_pinpoints must be a non-empty list of [height, width] pairs of positive integers, got ${JSON.stringify(v)}`);
  return v as [number, number][];
}
