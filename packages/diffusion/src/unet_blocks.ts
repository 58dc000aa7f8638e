// The UNet's down, mid and up blocks (diffusers' unet_2d_blocks.py): DownBlock2D,
// CrossAttnDownBlock2D, UNetMidBlock2DCrossAttn, UpBlock2D, CrossAttnUpBlock2D.
import { Tensor, concatenate, nn } from "@tessera/core";
import { Downsample2D, ResnetBlock2D, Upsample2D } from "./blocks.js";
import { Transformer2DModel } from "./transformer.js";

/** What every block needs to know. `heads` and `layers` only matter for cross-attention blocks. */
export interface BlockOptions {
  inChannels: number;
  outChannels: number;
  tembChannels: number;
  numLayers: number;
  groups: number;
  eps: number;
  heads: number;
  transformerLayers: number;
  contextDim: number;
  linearProjection: boolean;
  /** Cross-attention after each resnet. */
  crossAttention: boolean;
}

function transformer(o: BlockOptions, channels: number): Transformer2DModel {
  return new Transformer2DModel({
    heads: o.heads, headDim: channels / o.heads, channels, layers: o.transformerLayers, contextDim: o.contextDim,
    groups: o.groups, linearProjection: o.linearProjection,
  });
}

/** DownBlock2D / CrossAttnDownBlock2D: numLayers resnets (each followed by a transformer in the cross-attention kind), then a downsampler. */
export class DownBlock extends nn.Module {
  resnets: ResnetBlock2D[];
  attentions?: Transformer2DModel[];
  downsamplers?: [Downsample2D];

  constructor(o: BlockOptions, addDownsample: boolean) {
    super();
    this.resnets = Array.from({ length: o.numLayers }, (_, j) =>
      new ResnetBlock2D(j === 0 ? o.inChannels : o.outChannels, o.outChannels, o.tembChannels, o.groups, o.eps));
    if (o.crossAttention) this.attentions = this.resnets.map(() => transformer(o, o.outChannels));
    if (addDownsample) this.downsamplers = [new Downsample2D(o.outChannels, 1)];
  }

  /** Returns the block's output and the states it leaves for the up path (one per resnet, one for the downsampler). */
  forward(x: Tensor, temb: Tensor, context: Tensor): { x: Tensor; states: Tensor[] } {
    const states: Tensor[] = [];
    this.resnets.forEach((r, j) => {
      x = r.forward(x, temb);
      if (this.attentions) x = this.attentions[j].forward(x, context);
      states.push(x);
    });
    if (this.downsamplers) {
      x = this.downsamplers[0].forward(x);
      states.push(x);
    }
    return { x, states };
  }
}

/** UNetMidBlock2DCrossAttn: resnet, then (transformer, resnet) once. */
export class MidBlock extends nn.Module {
  resnets: ResnetBlock2D[];
  attentions: Transformer2DModel[];

  constructor(o: BlockOptions) {
    super();
    const c = o.inChannels;
    this.resnets = [0, 1].map(() => new ResnetBlock2D(c, c, o.tembChannels, o.groups, o.eps));
    this.attentions = [transformer(o, c)];
  }

  forward(x: Tensor, temb: Tensor, context: Tensor): Tensor {
    x = this.resnets[0].forward(x, temb);
    x = this.attentions[0].forward(x, context);
    return this.resnets[1].forward(x, temb);
  }
}

/**
 * UpBlock2D / CrossAttnUpBlock2D: numLayers resnets over [x, skip] concatenated on channels
 * (each followed by a transformer in the cross-attention kind), then an upsampler.
 */
export class UpBlock extends nn.Module {
  resnets: ResnetBlock2D[];
  attentions?: Transformer2DModel[];
  upsamplers?: [Upsample2D];

  /** `prevChannels`: the channels coming from below; `o.inChannels`: the skip channels of the last resnet. */
  constructor(o: BlockOptions, prevChannels: number, addUpsample: boolean) {
    super();
    this.resnets = Array.from({ length: o.numLayers }, (_, j) => {
      const skip = j === o.numLayers - 1 ? o.inChannels : o.outChannels;
      const input = j === 0 ? prevChannels : o.outChannels;
      return new ResnetBlock2D(input + skip, o.outChannels, o.tembChannels, o.groups, o.eps);
    });
    if (o.crossAttention) this.attentions = this.resnets.map(() => transformer(o, o.outChannels));
    if (addUpsample) this.upsamplers = [new Upsample2D(o.outChannels)];
  }

  /** `skips` are taken from the end (the last one first); `size` is the next skip's [H, W] for the upsampler. */
  forward(x: Tensor, skips: Tensor[], temb: Tensor, context: Tensor, size?: [number, number]): Tensor {
    this.resnets.forEach((r, j) => {
      const skip = skips.pop();
      if (!skip) throw new Error("UNet: the up path ran out of skip connections (inconsistent block configuration)");
      x = r.forward(concatenate([x, skip], 3), temb);
      if (this.attentions) x = this.attentions[j].forward(x, context);
    });
    return this.upsamplers ? this.upsamplers[0].forward(x, size) : x;
  }
}
