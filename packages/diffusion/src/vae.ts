// diffusers' AutoencoderKL: the Encoder (image -> latent mean / log-variance) and Decoder (latent ->
// image) of Stable Diffusion, with their single-head mid-block attention. Channels-last [B, H, W, C].
import { Tensor, add, astype, clip, fast, nn, reshape, split } from "@tessera/core";
import { Downsample2D, ResnetBlock2D, Upsample2D } from "./blocks.js";
import { ConfigReader } from "./config.js";
import type { RawConfig } from "./config.js";
import { checkVaeTiling, defaultVaeTiling, runTiled } from "./vae_tiling.js";
import type { VaeTiling } from "./vae_tiling.js";

/** The AutoencoderKL config fields this implementation reads. */
export interface VaeConfig {
  in_channels: number;
  out_channels: number;
  latent_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  norm_num_groups: number;
  /** Latents are multiplied by it after encoding (and divided before decoding) by the pipelines. */
  scaling_factor: number;
  /** diffusers runs this VAE in float32 even in a float16 pipeline (SDXL's overflows in float16). */
  force_upcast: boolean;
  use_quant_conv: boolean;
  use_post_quant_conv: boolean;
  /** The image size it was trained at (512 for SD 1.5); diffusers' tile size when tiling. */
  sample_size: number;
}

/** Reads and checks a vae/config.json. */
export function vaeConfig(raw: RawConfig, source: string): VaeConfig {
  const c = new ConfigReader(raw, source);
  const down = c.strList("down_block_types", ["DownEncoderBlock2D"]);
  const up = c.strList("up_block_types", ["UpDecoderBlock2D"]);
  const bad = [...down.filter((t) => t !== "DownEncoderBlock2D"), ...up.filter((t) => t !== "UpDecoderBlock2D")];
  if (bad.length) throw new Error(`${source}: unsupported VAE block types ${bad.join(", ")} (DownEncoderBlock2D / UpDecoderBlock2D)`);
  if (down.length !== up.length) throw new Error(`${source}: ${down.length} down blocks but ${up.length} up blocks`);
  if (c.str("act_fn", "silu") !== "silu") throw new Error(`${source}: act_fn '${String(raw.act_fn)}' is not supported (silu)`);
  if (raw.shift_factor !== undefined && raw.shift_factor !== null && raw.shift_factor !== 0)
    throw new Error(`${source}: shift_factor is not supported (an SD3/Flux VAE?)`);
  if (raw.mid_block_add_attention === false) throw new Error(`${source}: mid_block_add_attention false is not supported`);
  const cfg: VaeConfig = {
    in_channels: c.int("in_channels", 3), out_channels: c.int("out_channels", 3), latent_channels: c.int("latent_channels", 4),
    block_out_channels: c.intList("block_out_channels", down.length), layers_per_block: c.int("layers_per_block", 1),
    norm_num_groups: c.int("norm_num_groups", 32), scaling_factor: c.num("scaling_factor", 0.18215),
    force_upcast: c.bool("force_upcast", true), use_quant_conv: c.bool("use_quant_conv", true),
    use_post_quant_conv: c.bool("use_post_quant_conv", true),
    sample_size: Array.isArray(raw.sample_size) ? Number(raw.sample_size[0]) : c.int("sample_size", 512),
  };
  for (const ch of cfg.block_out_channels)
    if (ch % cfg.norm_num_groups) throw new Error(`${source}: block_out_channels ${ch} is not a multiple of norm_num_groups (${cfg.norm_num_groups})`);
  return cfg;
}

const EPS = 1e-6;

/** The mid block's self-attention: GroupNorm, one head over all channels, residual. */
class VaeAttention extends nn.Module {
  group_norm: nn.GroupNorm;
  to_q: nn.Linear;
  to_k: nn.Linear;
  to_v: nn.Linear;
  to_out: [nn.Linear];

  constructor(channels: number, groups: number) {
    super();
    this.group_norm = new nn.GroupNorm(groups, channels, { eps: EPS });
    this.to_q = new nn.Linear(channels, channels);
    this.to_k = new nn.Linear(channels, channels);
    this.to_v = new nn.Linear(channels, channels);
    this.to_out = [new nn.Linear(channels, channels)];
  }

  forward(x: Tensor): Tensor {
    const [b, h, w, c] = x.shape;
    const n = reshape(this.group_norm.forward(x), [b, 1, h * w, c]);
    const o = fast.scaledDotProductAttention(this.to_q.forward(n), this.to_k.forward(n), this.to_v.forward(n));
    return add(x, reshape(this.to_out[0].forward(o), [b, h, w, c]));
  }
}

/** UNetMidBlock2D: resnet, attention, resnet (no time embedding). */
class VaeMidBlock extends nn.Module {
  resnets: ResnetBlock2D[];
  attentions: [VaeAttention];

  constructor(channels: number, groups: number) {
    super();
    this.resnets = [0, 1].map(() => new ResnetBlock2D(channels, channels, null, groups, EPS));
    this.attentions = [new VaeAttention(channels, groups)];
  }

  forward(x: Tensor): Tensor {
    return this.resnets[1].forward(this.attentions[0].forward(this.resnets[0].forward(x)));
  }
}

class EncoderBlock extends nn.Module {
  resnets: ResnetBlock2D[];
  downsamplers?: [Downsample2D];
  constructor(inCh: number, outCh: number, layers: number, groups: number, downsample: boolean) {
    super();
    this.resnets = Array.from({ length: layers }, (_, j) => new ResnetBlock2D(j ? outCh : inCh, outCh, null, groups, EPS));
    if (downsample) this.downsamplers = [new Downsample2D(outCh, 0)];
  }
  forward(x: Tensor): Tensor {
    for (const r of this.resnets) x = r.forward(x);
    return this.downsamplers ? this.downsamplers[0].forward(x) : x;
  }
}

class DecoderBlock extends nn.Module {
  resnets: ResnetBlock2D[];
  upsamplers?: [Upsample2D];
  constructor(inCh: number, outCh: number, layers: number, groups: number, upsample: boolean) {
    super();
    this.resnets = Array.from({ length: layers }, (_, j) => new ResnetBlock2D(j ? outCh : inCh, outCh, null, groups, EPS));
    if (upsample) this.upsamplers = [new Upsample2D(outCh)];
  }
  forward(x: Tensor): Tensor {
    for (const r of this.resnets) x = r.forward(x);
    return this.upsamplers ? this.upsamplers[0].forward(x) : x;
  }
}

/** diffusers' Encoder (double_z): image [B, H, W, in_channels] -> [B, H / f, W / f, 2 * latent_channels]. */
export class Encoder extends nn.Module {
  conv_in: nn.Conv2d;
  down_blocks: EncoderBlock[];
  mid_block: VaeMidBlock;
  conv_norm_out: nn.GroupNorm;
  conv_out: nn.Conv2d;

  constructor(cfg: VaeConfig) {
    super();
    const ch = cfg.block_out_channels;
    const g = cfg.norm_num_groups;
    this.conv_in = new nn.Conv2d(cfg.in_channels, ch[0], 3, { padding: 1 });
    this.down_blocks = ch.map((c, i) => new EncoderBlock(i ? ch[i - 1] : ch[0], c, cfg.layers_per_block, g, i < ch.length - 1));
    this.mid_block = new VaeMidBlock(ch[ch.length - 1], g);
    this.conv_norm_out = new nn.GroupNorm(g, ch[ch.length - 1], { eps: EPS });
    this.conv_out = new nn.Conv2d(ch[ch.length - 1], 2 * cfg.latent_channels, 3, { padding: 1 });
  }

  forward(x: Tensor): Tensor {
    x = this.conv_in.forward(x);
    for (const b of this.down_blocks) x = b.forward(x);
    x = this.mid_block.forward(x);
    return this.conv_out.forward(nn.silu(this.conv_norm_out.forward(x)));
  }
}

/** diffusers' Decoder: latent [B, h, w, latent_channels] -> image [B, h * f, w * f, out_channels] (about [-1, 1]). */
export class Decoder extends nn.Module {
  conv_in: nn.Conv2d;
  mid_block: VaeMidBlock;
  up_blocks: DecoderBlock[];
  conv_norm_out: nn.GroupNorm;
  conv_out: nn.Conv2d;

  constructor(cfg: VaeConfig) {
    super();
    const rev = [...cfg.block_out_channels].reverse();
    const g = cfg.norm_num_groups;
    this.conv_in = new nn.Conv2d(cfg.latent_channels, rev[0], 3, { padding: 1 });
    this.mid_block = new VaeMidBlock(rev[0], g);
    this.up_blocks = rev.map((c, i) => new DecoderBlock(i ? rev[i - 1] : rev[0], c, cfg.layers_per_block + 1, g, i < rev.length - 1));
    this.conv_norm_out = new nn.GroupNorm(g, rev[rev.length - 1], { eps: EPS });
    this.conv_out = new nn.Conv2d(rev[rev.length - 1], cfg.out_channels, 3, { padding: 1 });
  }

  forward(z: Tensor): Tensor {
    let x = this.mid_block.forward(this.conv_in.forward(z));
    for (const b of this.up_blocks) x = b.forward(x);
    return this.conv_out.forward(nn.silu(this.conv_norm_out.forward(x)));
  }
}

/** The latent distribution of an image: mean and log-variance (clamped to [-30, 20] as diffusers). */
export interface LatentDistribution {
  mean: Tensor;
  logvar: Tensor;
}

/** diffusers' AutoencoderKL. */
export class AutoencoderKL extends nn.Module {
  encoder: Encoder;
  decoder: Decoder;
  quant_conv?: nn.Conv2d;
  post_quant_conv?: nn.Conv2d;
  readonly config: VaeConfig;

  constructor(cfg: VaeConfig) {
    super();
    this.config = cfg;
    this.encoder = new Encoder(cfg);
    this.decoder = new Decoder(cfg);
    const l2 = 2 * cfg.latent_channels;
    if (cfg.use_quant_conv) this.quant_conv = new nn.Conv2d(l2, l2, 1);
    if (cfg.use_post_quant_conv) this.post_quant_conv = new nn.Conv2d(cfg.latent_channels, cfg.latent_channels, 1);
  }

  /** Image to downsampling factor: 2^(blocks - 1) (8 for Stable Diffusion). */
  get scaleFactor(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  /** diffusers' enable_tiling() geometry for this VAE (tiles of sample_size pixels, overlap 0.25). */
  get defaultTiling(): VaeTiling {
    return defaultVaeTiling(this.config.sample_size, this.scaleFactor);
  }

  private checkImage(image: Tensor, op: string): void {
    const f = this.scaleFactor;
    if (image.ndim !== 4 || image.shape[3] !== this.config.in_channels || image.shape[1] % f || image.shape[2] % f)
      throw new Error(`AutoencoderKL.${op}: images must be channels-last [B, H, W, ${this.config.in_channels}] with H and W multiples of ${f}, got [${image.shape.join(", ")}]`);
  }

  private checkLatents(latents: Tensor, op: string): void {
    if (latents.ndim !== 4 || latents.shape[3] !== this.config.latent_channels)
      throw new Error(`AutoencoderKL.${op}: latents must be channels-last [B, h, w, ${this.config.latent_channels}], got [${latents.shape.join(", ")}]`);
  }

  private moments(image: Tensor): Tensor {
    const m = this.encoder.forward(astype(image, this.encoder.conv_in.weight.dtype));
    return this.quant_conv ? this.quant_conv.forward(m) : m;
  }

  private decodeRaw(latents: Tensor): Tensor {
    const z = astype(latents, this.decoder.conv_in.weight.dtype);
    return this.decoder.forward(this.post_quant_conv ? this.post_quant_conv.forward(z) : z);
  }

  private static distribution(m: Tensor): LatentDistribution {
    const [mean, logvar] = split(m, 2, 3);
    return { mean, logvar: clip(logvar, -30, 20) };
  }

  /** Images [B, H, W, in_channels] in [-1, 1] (H and W multiples of scaleFactor) -> the latent distribution (unscaled). */
  encode(image: Tensor): LatentDistribution {
    this.checkImage(image, "encode");
    return AutoencoderKL.distribution(this.moments(image));
  }

  /** Latents [B, h, w, latent_channels] (already divided by scaling_factor) -> images [B, h * f, w * f, out_channels]. */
  decode(latents: Tensor): Tensor {
    this.checkLatents(latents, "decode");
    return this.decodeRaw(latents);
  }

  /**
   * encode() in overlapping tiles, evaluated one at a time (diffusers' tiled encode: only images
   * larger than a tile are tiled). The result differs slightly from encode(): each tile's GroupNorm
   * and attention see only that tile.
   */
  async encodeTiled(image: Tensor, tiling: VaeTiling = this.defaultTiling): Promise<LatentDistribution> {
    this.checkImage(image, "encodeTiled");
    const t = checkVaeTiling(tiling, this.scaleFactor);
    if (image.shape[1] <= t.sampleTile && image.shape[2] <= t.sampleTile) return this.encode(image);
    return AutoencoderKL.distribution(await runTiled(image, (x) => this.moments(x), t.sampleTile, t.latentTile, t.overlap));
  }

  /** decode() in overlapping tiles, evaluated one at a time (diffusers' tiled_decode: only latents larger than a tile are tiled). */
  async decodeTiled(latents: Tensor, tiling: VaeTiling = this.defaultTiling): Promise<Tensor> {
    this.checkLatents(latents, "decodeTiled");
    const t = checkVaeTiling(tiling, this.scaleFactor);
    if (latents.shape[1] <= t.latentTile && latents.shape[2] <= t.latentTile) return this.decode(latents);
    return runTiled(latents, (z) => this.decodeRaw(z), t.latentTile, t.sampleTile, t.overlap);
  }
}

/** Renames of older diffusers VAE checkpoints (query / key / value / proj_attn). */
export function sanitizeVae(weights: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of weights) {
    const nk = k.replace(/\.query\./, ".to_q.").replace(/\.key\./, ".to_k.").replace(/\.value\./, ".to_v.").replace(/\.proj_attn\./, ".to_out.0.");
    out.set(nk, v);
  }
  return out;
}
