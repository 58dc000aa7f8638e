// Building blocks shared by the UNet and the VAE, as diffusers' resnet.py, downsampling.py,
// upsampling.py and embeddings.py: ResnetBlock2D, Downsample2D, Upsample2D and the timestep
// embedding. Images are channels-last [B, H, W, C] throughout.
import { Tensor, add, astype, concatenate, conv2d, cos, expandDims, multiply, nn, reshape, sin, slice, tensor, upsampleNearest } from "@tessera/core";
import type { DType } from "@tessera/core";

/** diffusers' ResnetBlock2D ("default" time-embedding norm, output scale 1, no dropout at inference). */
export class ResnetBlock2D extends nn.Module {
  norm1: nn.GroupNorm;
  conv1: nn.Conv2d;
  time_emb_proj?: nn.Linear;
  norm2: nn.GroupNorm;
  conv2: nn.Conv2d;
  conv_shortcut?: nn.Conv2d;

  /** `tembChannels` null: no time embedding (the VAE's blocks). */
  constructor(inChannels: number, outChannels: number, tembChannels: number | null, groups: number, eps: number) {
    super();
    this.norm1 = new nn.GroupNorm(groups, inChannels, { eps });
    this.conv1 = new nn.Conv2d(inChannels, outChannels, 3, { padding: 1 });
    if (tembChannels !== null) this.time_emb_proj = new nn.Linear(tembChannels, outChannels);
    this.norm2 = new nn.GroupNorm(groups, outChannels, { eps });
    this.conv2 = new nn.Conv2d(outChannels, outChannels, 3, { padding: 1 });
    if (inChannels !== outChannels) this.conv_shortcut = new nn.Conv2d(inChannels, outChannels, 1);
  }

  /** x [B, H, W, Cin], temb [B, T] (or undefined for the VAE) -> [B, H, W, Cout]. */
  forward(x: Tensor, temb?: Tensor): Tensor {
    let h = this.conv1.forward(nn.silu(this.norm1.forward(x)));
    if (this.time_emb_proj && temb) {
      const t = this.time_emb_proj.forward(nn.silu(temb));
      h = add(h, reshape(t, [t.shape[0], 1, 1, t.shape[1]]));
    }
    h = this.conv2.forward(nn.silu(this.norm2.forward(h)));
    return add(this.conv_shortcut ? this.conv_shortcut.forward(x) : x, h);
  }
}

/**
 * diffusers' Downsample2D with a convolution: stride 2, padding 1 (the UNet), or padding 0 with one
 * row and column of zeros added at the bottom and right first (the VAE encoder's `padding=0`).
 */
export class Downsample2D extends nn.Module {
  conv: nn.Conv2d;
  readonly asymmetric: boolean;

  constructor(channels: number, padding: 0 | 1) {
    super();
    this.asymmetric = padding === 0;
    this.conv = new nn.Conv2d(channels, channels, 3, { stride: 2, padding });
  }

  forward(x: Tensor): Tensor {
    if (!this.asymmetric) return this.conv.forward(x);
    const y = conv2d(x, this.conv.weight, { stride: 2, padding: [[0, 1], [0, 1]] });
    return this.conv.bias ? add(y, this.conv.bias) : y;
  }
}

/** diffusers' Upsample2D with a convolution: nearest-neighbour 2x (cropped to `size` if given), then a 3x3 conv. */
export class Upsample2D extends nn.Module {
  conv: nn.Conv2d;

  constructor(channels: number) {
    super();
    this.conv = new nn.Conv2d(channels, channels, 3, { padding: 1 });
  }

  /**
   * `size` [H, W]: the skip connection's size when the input was odd-sized (diffusers'
   * `upsample_size`); nearest-neighbour to 2n - 1 equals 2x cropped, so this crops.
   */
  forward(x: Tensor, size?: readonly [number, number]): Tensor {
    let y = upsampleNearest(x, 2);
    if (size && (size[0] !== y.shape[1] || size[1] !== y.shape[2])) {
      if (size[0] > y.shape[1] || size[1] > y.shape[2] || size[0] < y.shape[1] - 1 || size[1] < y.shape[2] - 1)
        throw new Error(`Upsample2D: cannot upsample [${x.shape[1]}, ${x.shape[2]}] to [${size.join(", ")}]`);
      y = slice(y, [0, 0, 0, 0], [y.shape[0], size[0], size[1], y.shape[3]]);
    }
    return this.conv.forward(y);
  }
}

/**
 * diffusers' get_timestep_embedding with flip_sin_to_cos (cos first) for timesteps [N]: [N, dim],
 * frequencies exp(-ln(maxPeriod) * i / (dim / 2 - shift)) computed in float32 steps as torch does.
 */
export function timestepEmbedding(timesteps: Tensor, dim: number, opts: { flipSinToCos?: boolean; shift?: number; maxPeriod?: number } = {}): Tensor {
  const half = Math.floor(dim / 2);
  const shift = opts.shift ?? 0;
  const logPeriod = Math.fround(-Math.log(opts.maxPeriod ?? 10000));
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp(Math.fround(Math.fround(logPeriod * i) / Math.fround(half - shift))));
  const args = multiply(expandDims(astype(timesteps, "float32"), 1), tensor(freqs, { shape: [1, half] }));
  const parts = opts.flipSinToCos ?? true ? [cos(args), sin(args)] : [sin(args), cos(args)];
  let emb = concatenate(parts, 1);
  if (dim % 2) emb = concatenate([emb, tensor(new Float32Array(timesteps.shape[0]), { shape: [timesteps.shape[0], 1] })], 1);
  return emb;
}

/** diffusers' TimestepEmbedding: linear_1, SiLU, linear_2. */
export class TimestepEmbedding extends nn.Module {
  linear_1: nn.Linear;
  linear_2: nn.Linear;

  constructor(inChannels: number, timeEmbedDim: number) {
    super();
    this.linear_1 = new nn.Linear(inChannels, timeEmbedDim);
    this.linear_2 = new nn.Linear(timeEmbedDim, timeEmbedDim);
  }

  forward(x: Tensor): Tensor {
    return this.linear_2.forward(nn.silu(this.linear_1.forward(x)));
  }
}

/** Timesteps as a float32 tensor [batch]: a number (broadcast), a list, or a tensor of 1 or batch values. */
export function timestepsFor(t: number | readonly number[] | Tensor, batch: number, dtype: DType = "float32"): Tensor {
  let ts = t instanceof Tensor ? t : tensor(typeof t === "number" ? [t] : [...t], { dtype: "float32" });
  if (ts.ndim === 0) ts = reshape(ts, [1]);
  if (ts.ndim !== 1 || (ts.shape[0] !== 1 && ts.shape[0] !== batch))
    throw new Error(`UNet: timestep must be one value or one per batch item (${batch}), got shape [${ts.shape.join(", ")}]`);
  if (ts.shape[0] === 1 && batch > 1) ts = concatenate(Array<Tensor>(batch).fill(ts), 0);
  return astype(ts, dtype);
}
