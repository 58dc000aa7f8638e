// diffusers' UNet2DConditionModel as Stable Diffusion 1.x / 2.x and SDXL use it (epsilon or
// v-prediction is the scheduler's business): timestep embedding (+ SDXL's text_time add-embedding),
// conv_in, down blocks, mid block, up blocks with skip connections, GroupNorm, SiLU, conv_out.
// Attribute names are diffusers' keys; latents are channels-last [B, H, W, C].
import { Tensor, add, astype, concatenate, nn, reshape } from "@tessera/core";
import { TimestepEmbedding, timestepEmbedding, timestepsFor } from "./blocks.js";
import { ConfigReader } from "./config.js";
import type { RawConfig } from "./config.js";
import { DownBlock, MidBlock, UpBlock } from "./unet_blocks.js";
import type { BlockOptions } from "./unet_blocks.js";

const DOWN_TYPES = ["DownBlock2D", "CrossAttnDownBlock2D"];
const UP_TYPES = ["UpBlock2D", "CrossAttnUpBlock2D"];

/** The UNet2DConditionModel config fields this implementation reads (diffusers' names). */
export interface UNetConfig {
  in_channels: number;
  out_channels: number;
  block_out_channels: number[];
  layers_per_block: number[];
  down_block_types: string[];
  up_block_types: string[];
  cross_attention_dim: number[];
  /** Heads per down block (diffusers' num_attention_heads, or attention_head_dim, which older configs use for it). */
  num_attention_heads: number[];
  transformer_layers_per_block: number[];
  norm_num_groups: number;
  norm_eps: number;
  use_linear_projection: boolean;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  /** "text_time" for SDXL. */
  addition_embed_type: "text_time" | null;
  addition_time_embed_dim: number;
  projection_class_embeddings_input_dim: number;
  sample_size: number;
}

// Config values we do not implement: the key, the accepted values.
const UNSUPPORTED: [string, unknown[]][] = [
  ["class_embed_type", [null]], ["time_embedding_type", ["positional"]], ["resnet_time_scale_shift", ["default"]],
  ["only_cross_attention", [false]], ["dual_cross_attention", [false]], ["encoder_hid_dim_type", [null]],
  ["mid_block_type", ["UNetMidBlock2DCrossAttn"]], ["conv_in_kernel", [3]], ["conv_out_kernel", [3]],
  ["attention_type", ["default"]], ["time_embedding_act_fn", [null]], ["timestep_post_act", [null]],
  ["mid_block_only_cross_attention", [null, false]], ["reverse_transformer_layers_per_block", [null]],
  ["act_fn", ["silu"]], ["downsample_padding", [1]], ["center_input_sample", [false]], ["num_class_embeds", [null]],
  ["class_embeddings_concat", [false]], ["time_cond_proj_dim", [null]], ["encoder_hid_dim", [null]],
  ["cross_attention_norm", [null]], ["resnet_skip_time_act", [false]], ["resnet_out_scale_factor", [1]],
  ["mid_block_scale_factor", [1]],
];

/** Reads and checks a unet/config.json; anything this UNet does not implement is an Error naming it. */
export function unetConfig(raw: RawConfig, source: string): UNetConfig {
  const c = new ConfigReader(raw, source);
  for (const [key, ok] of UNSUPPORTED) {
    const v = raw[key] === undefined ? ok[0] : raw[key];
    // Per-block lists (only_cross_attention: [false, ...]) must hold accepted values only.
    if (!(Array.isArray(v) ? v : [v]).every((e) => ok.some((x) => x === e))) throw new Error(`${source}: ${key} = ${JSON.stringify(v)} is not supported (only ${ok.map((x) => JSON.stringify(x)).join(" or ")})`);
  }
  const down = c.strList("down_block_types");
  const up = c.strList("up_block_types");
  const n = down.length;
  const bad = [...down.filter((t) => !DOWN_TYPES.includes(t)), ...up.filter((t) => !UP_TYPES.includes(t))];
  if (bad.length) throw new Error(`${source}: unsupported block types ${bad.join(", ")} (supported: ${[...DOWN_TYPES, ...UP_TYPES].join(", ")})`);
  if (up.length !== n) throw new Error(`${source}: ${n} down blocks but ${up.length} up blocks`);
  const addType = c.optStr("addition_embed_type");
  if (addType !== null && addType !== "text_time") throw new Error(`${source}: addition_embed_type '${addType}' is not supported (only "text_time", SDXL's)`);
  const heads = c.has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
  const cfg: UNetConfig = {
    in_channels: c.int("in_channels", 4), out_channels: c.int("out_channels", 4),
    block_out_channels: c.intList("block_out_channels", n), layers_per_block: c.intList("layers_per_block", n, 2),
    down_block_types: down, up_block_types: up, cross_attention_dim: c.intList("cross_attention_dim", n, 1280),
    num_attention_heads: c.intList(heads, n, 8), transformer_layers_per_block: c.intList("transformer_layers_per_block", n, 1),
    norm_num_groups: c.int("norm_num_groups", 32), norm_eps: c.num("norm_eps", 1e-5),
    use_linear_projection: c.bool("use_linear_projection", false), flip_sin_to_cos: c.bool("flip_sin_to_cos", true),
    freq_shift: c.num("freq_shift", 0), addition_embed_type: addType,
    addition_time_embed_dim: addType ? c.int("addition_time_embed_dim") : 0,
    projection_class_embeddings_input_dim: addType ? c.int("projection_class_embeddings_input_dim") : 0,
    sample_size: c.int("sample_size", 64),
  };
  for (const ch of cfg.block_out_channels)
    if (ch % cfg.norm_num_groups) throw new Error(`${source}: block_out_channels ${ch} is not a multiple of norm_num_groups (${cfg.norm_num_groups})`);
  return cfg;
}

/** SDXL's extra conditioning: the pooled text embedding and the six size/crop numbers per image. */
export interface AddedConditions {
  /** [B, projection_dim] (text_encoder_2's text_embeds). */
  textEmbeds: Tensor;
  /** [B, 6]: original (h, w), crop top-left (y, x), target (h, w). */
  timeIds: Tensor;
}

/** diffusers' UNet2DConditionModel. */
export class UNet2DConditionModel extends nn.Module {
  conv_in: nn.Conv2d;
  time_embedding: TimestepEmbedding;
  add_embedding?: TimestepEmbedding;
  down_blocks: DownBlock[];
  mid_block: MidBlock;
  up_blocks: UpBlock[];
  conv_norm_out: nn.GroupNorm;
  conv_out: nn.Conv2d;
  readonly config: UNetConfig;

  constructor(cfg: UNetConfig) {
    super();
    this.config = cfg;
    const ch = cfg.block_out_channels;
    const n = ch.length;
    const temb = ch[0] * 4;
    this.conv_in = new nn.Conv2d(cfg.in_channels, ch[0], 3, { padding: 1 });
    this.time_embedding = new TimestepEmbedding(ch[0], temb);
    if (cfg.addition_embed_type === "text_time") this.add_embedding = new TimestepEmbedding(cfg.projection_class_embeddings_input_dim, temb);
    const opts = (i: number, inChannels: number, outChannels: number, numLayers: number, cross: boolean): BlockOptions => ({
      inChannels, outChannels, tembChannels: temb, numLayers, groups: cfg.norm_num_groups, eps: cfg.norm_eps,
      heads: cfg.num_attention_heads[i], transformerLayers: cfg.transformer_layers_per_block[i],
      contextDim: cfg.cross_attention_dim[i], linearProjection: cfg.use_linear_projection, crossAttention: cross,
    });
    this.down_blocks = cfg.down_block_types.map((t, i) =>
      new DownBlock(opts(i, i === 0 ? ch[0] : ch[i - 1], ch[i], cfg.layers_per_block[i], t === "CrossAttnDownBlock2D"), i < n - 1));
    this.mid_block = new MidBlock(opts(n - 1, ch[n - 1], ch[n - 1], 1, true));
    this.up_blocks = cfg.up_block_types.map((t, i) => {
      const r = n - 1 - i; // the down block this one mirrors
      const prev = ch[Math.min(r + 1, n - 1)];
      return new UpBlock(opts(r, ch[Math.max(r - 1, 0)], ch[r], cfg.layers_per_block[r] + 1, t === "CrossAttnUpBlock2D"), i === 0 ? ch[n - 1] : prev, i < n - 1);
    });
    this.conv_norm_out = new nn.GroupNorm(cfg.norm_num_groups, ch[0], { eps: cfg.norm_eps });
    this.conv_out = new nn.Conv2d(ch[0], cfg.out_channels, 3, { padding: 1 });
  }

  /** The time embedding [B, 4 * block_out_channels[0]] (with SDXL's added conditions). */
  timeEmbedding(timestep: number | readonly number[] | Tensor, batch: number, added?: AddedConditions): Tensor {
    const dtype = this.conv_in.weight.dtype;
    const cfg = this.config;
    const t = timestepEmbedding(timestepsFor(timestep, batch), cfg.block_out_channels[0], { flipSinToCos: cfg.flip_sin_to_cos, shift: cfg.freq_shift });
    let emb = this.time_embedding.forward(astype(t, dtype));
    if (this.add_embedding) {
      if (!added) throw new Error("UNet: this is an SDXL UNet (addition_embed_type text_time): pass added conditions { textEmbeds, timeIds }");
      const { textEmbeds, timeIds } = added;
      if (timeIds.ndim !== 2 || timeIds.shape[0] !== batch || textEmbeds.ndim !== 2 || textEmbeds.shape[0] !== batch)
        throw new Error(`UNet: textEmbeds [${textEmbeds.shape.join(", ")}] and timeIds [${timeIds.shape.join(", ")}] must have one row per batch item (${batch})`);
      const timeEmb = timestepEmbedding(reshape(timeIds, [timeIds.size]), cfg.addition_time_embed_dim, { flipSinToCos: cfg.flip_sin_to_cos, shift: cfg.freq_shift });
      const addIn = concatenate([astype(textEmbeds, dtype), astype(reshape(timeEmb, [batch, timeEmb.size / batch]), dtype)], 1);
      if (addIn.shape[1] !== cfg.projection_class_embeddings_input_dim)
        throw new Error(`UNet: textEmbeds (${textEmbeds.shape[1]}) + 6 x ${cfg.addition_time_embed_dim} time features = ${addIn.shape[1]}, but the add-embedding takes ${cfg.projection_class_embeddings_input_dim}`);
      emb = add(emb, this.add_embedding.forward(addIn));
    }
    return emb;
  }

  /**
   * Predicts noise (or v) for channels-last latents [B, H, W, in_channels] at `timestep` (one value
   * or one per item), attending to text embeddings [B, S, cross_attention_dim]; SDXL UNets also take
   * `added`. Returns [B, H, W, out_channels] in the model's dtype.
   */
  forward(sample: Tensor, timestep: number | readonly number[] | Tensor, encoderHiddenStates: Tensor, added?: AddedConditions): Tensor {
    const cfg = this.config;
    if (sample.ndim !== 4 || sample.shape[3] !== cfg.in_channels)
      throw new Error(`UNet: latents must be channels-last [B, H, W, ${cfg.in_channels}], got [${sample.shape.join(", ")}]`);
    const b = sample.shape[0];
    if (encoderHiddenStates.ndim !== 3 || encoderHiddenStates.shape[0] !== b || encoderHiddenStates.shape[2] !== cfg.cross_attention_dim[0])
      throw new Error(`UNet: encoderHiddenStates must be [${b}, S, ${cfg.cross_attention_dim[0]}], got [${encoderHiddenStates.shape.join(", ")}]`);
    const dtype = this.conv_in.weight.dtype;
    const context = astype(encoderHiddenStates, dtype);
    const temb = this.timeEmbedding(timestep, b, added);
    let x = this.conv_in.forward(astype(sample, dtype));
    const skips: Tensor[] = [x];
    for (const block of this.down_blocks) {
      const r = block.forward(x, temb, context);
      x = r.x;
      skips.push(...r.states);
    }
    x = this.mid_block.forward(x, temb, context);
    for (const block of this.up_blocks) {
      const rest = skips.slice(0, skips.length - block.resnets.length);
      const next = rest[rest.length - 1];
      x = block.forward(x, skips, temb, context, next && block.upsamplers ? [next.shape[1], next.shape[2]] : undefined);
    }
    return this.conv_out.forward(nn.silu(this.conv_norm_out.forward(x)));
  }
}
