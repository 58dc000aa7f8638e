// LLaVA-NeXT (transformers' LlavaNextForConditionalGeneration): LLaVA's tower and projector run on
// each image's tiles (processors/anyres.ts); the grid tiles' features are laid out as one feature
// map, the padding's rows or columns cropped away (unpad to the image's aspect ratio), each row
// ended with the learned image_newline vector, after the base tile's features (pack_image_features
// with the 'spatial_unpad' merge, the only one transformers implements).
import { Tensor, broadcastTo, concatenate, slice, zeros } from "@tessera/core";
import type { Config } from "@tessera/lm";
import { parsePinpoints, selectBestResolution, unpaddedGrid } from "../processors/anyres.js";
import type { ImageSize } from "../processors/anyres.js";
import { Model as Llava } from "./llava.js";

export class Model extends Llava {
  image_newline: Tensor;
  readonly pinpoints: [number, number][];

  constructor(config: Config, source: string) {
    super(config, source);
    if (!this.dropCls) throw new Error(`${source}: LLaVA-NeXT needs vision_feature_select_strategy "default" (the tiles' grids leave the class token out)`);
    this.pinpoints = parsePinpoints(config.image_grid_pinpoints, `${source}: config.json`);
    const side = this.vision_tower.args.imageSize;
    const bad = this.pinpoints.find(([h, w]) => h % side || w % side);
    if (bad) throw new Error(`${source}: image_grid_pinpoints ${JSON.stringify(bad)} is not a multiple of the tower's image_size ${side}`);
    this.image_newline = zeros([this.multi_modal_projector.linear_2.weight.shape[0]]);
  }

  get modelType(): string { return "llava_next"; }

  /** The best-fit pinpoint's grid of tiles [rows, columns] for an image (get_anyres_image_grid_shape). */
  tileGrid(size: ImageSize): [number, number] {
    checkSize(size);
    const [h, w] = selectBestResolution(size, this.pinpoints);
    const side = this.vision_tower.args.imageSize;
    return [h / side, w / side];
  }

  /** Tiles per image: the grid's and the base tile. */
  tilesFor(size: ImageSize): number {
    const [r, c] = this.tileGrid(size);
    return r * c + 1;
  }

  /** The processor's count (_get_number_of_features): base tile + the unpadded grid + one newline per row. */
  imageTokens(size: ImageSize): number {
    const s = this.patchesPerSide;
    const [r, c] = this.tileGrid(size);
    const { rows, cols } = unpaddedGrid(size, { height: r * s, width: c * s });
    const h = rows[1] - rows[0], w = cols[1] - cols[0];
    return s * s + h * (w + 1);
  }

  get patchesPerSide(): number { return this.vision_tower.args.imageSize / this.vision_tower.args.patchSize; }

  /** Features [total tokens, text hidden] of all images' tiles [tiles, 3, H, W] (in image order). */
  imageFeatures(pixels: Tensor, imageSizes?: readonly ImageSize[]): Tensor {
    if (!imageSizes || imageSizes.length === 0) throw new Error("llava_next: image features need each image's size (imageSizes)");
    const tiles = imageSizes.map((s) => this.tilesFor(s));
    const total = tiles.reduce((a, b) => a + b, 0);
    if (pixels.shape[0] !== total)
      throw new Error(`llava_next: ${imageSizes.length} image(s) of these sizes make ${total} tiles, but the pixel values hold ${pixels.shape[0]}`);
    const f = super.imageFeatures(pixels);
    const [, n, d] = f.shape;
    const s = this.patchesPerSide;
    const parts: Tensor[] = [];
    let at = 0;
    imageSizes.forEach((size, i) => {
      const [r, c] = this.tileGrid(size);
      parts.push(slice(f, [at, 0, 0], [at + 1, n, d]).reshape([n, d]));
      const grid = slice(f, [at + 1, 0, 0], [at + tiles[i], n, d]).reshape([r, c, s, s, d]).transpose(0, 2, 1, 3, 4).reshape([r * s, c * s, d]);
      const { rows, cols } = unpaddedGrid(size, { height: r * s, width: c * s });
      const kept = slice(grid, [rows[0], cols[0], 0], [rows[1], cols[1], d]);
      const h = rows[1] - rows[0], w = cols[1] - cols[0];
      const newline = broadcastTo(this.image_newline.astype(kept.dtype).reshape([1, 1, d]), [h, 1, d]);
      parts.push(concatenate([kept, newline], 1).reshape([h * (w + 1), d]));
      at += tiles[i];
    });
    return concatenate(parts, 0);
  }
}

function checkSize(size: ImageSize): void {
  if (!size || !Number.isInteger(size.height) || !Number.isInteger(size.width) || size.height <= 0 || size.width <= 0)
    throw new Error(`llava_next: an image size must be positive integers { height, width }, got ${JSON.stringify(size)}`);
}

export function fromConfig(config: Config, source: string): Model {
  return new Model(config, source);
}
