// Rotary-embedding frequencies as Hugging Face transformers computes them (rope_init_fn variants
// "default", "linear", "llama3" and "yarn" of modeling_rope_utils.py), so a config's rope_scaling
// gives the same inverse frequencies and attention factor here as there.

/** Positions divided by `factor` (HF "linear"). */
export interface LinearRopeScaling {
  type: "linear";
  factor: number;
}
/** Llama 3.1's frequency-dependent interpolation (HF "llama3"). */
export interface Llama3RopeScaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}
/** YaRN (HF "yarn"): blends interpolated and extrapolated frequencies and scales cos/sin. */
export interface YarnRopeScaling {
  type: "yarn";
  factor: number;
  originalMaxPositionEmbeddings: number;
  /** Default 32. */
  betaFast?: number;
  /** Default 1. */
  betaSlow?: number;
  mscale?: number;
  mscaleAllDim?: number;
  /** Overrides the attention factor derived from factor/mscale/mscaleAllDim. */
  attentionFactor?: number;
  /** Round the correction range outward to whole dims (default true, as HF). */
  truncate?: boolean;
}
export type RopeScaling = LinearRopeScaling | Llama3RopeScaling | YarnRopeScaling;

export interface RopeParameters {
  /** dims / 2 inverse frequencies (a Float64Array is handed to the kernel without a per-element copy). */
  invFreq: readonly number[] | Float64Array;
  /** Multiplies cos and sin (1 except for YaRN). */
  attentionFactor: number;
}

function positive(x: unknown, what: string): number {
  if (typeof x !== "number" || !Number.isFinite(x) || x <= 0) throw new Error(`rope: ${what} must be a positive number, got ${String(x)}`);
  return x;
}

/** The default inverse frequencies base^(-2i / dims), i < dims / 2. */
export function defaultInvFreq(dims: number, base: number): number[] {
  return Array.from({ length: dims / 2 }, (_, i) => 1 / base ** ((2 * i) / dims));
}

function llama3(inv: number[], s: Llama3RopeScaling): number[] {
  const factor = positive(s.factor, "scaling.factor");
  const low = positive(s.lowFreqFactor, "scaling.lowFreqFactor");
  const high = positive(s.highFreqFactor, "scaling.highFreqFactor");
  const old = positive(s.originalMaxPositionEmbeddings, "scaling.originalMaxPositionEmbeddings");
  if (high === low) throw new Error("rope: scaling.highFreqFactor must differ from lowFreqFactor");
  const lowWavelen = old / low;
  const highWavelen = old / high;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - low) / (high - low);
    return ((1 - smooth) * f) / factor + smooth * f;
  });
}

function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

function yarn(dims: number, base: number, s: YarnRopeScaling): RopeParameters {
  const factor = positive(s.factor, "scaling.factor");
  const maxPos = positive(s.originalMaxPositionEmbeddings, "scaling.originalMaxPositionEmbeddings");
  const betaFast = s.betaFast ?? 32;
  const betaSlow = s.betaSlow ?? 1;
  let attentionFactor = s.attentionFactor;
  if (attentionFactor === undefined)
    attentionFactor = s.mscale && s.mscaleAllDim ? yarnMscale(factor, s.mscale) / yarnMscale(factor, s.mscaleAllDim) : yarnMscale(factor);
  const correctionDim = (rot: number) => (dims * Math.log(maxPos / (rot * 2 * Math.PI))) / (2 * Math.log(base));
  let low = correctionDim(betaFast);
  let high = correctionDim(betaSlow);
  if (s.truncate ?? true) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, dims - 1);
  if (low === high) high += 0.001;  // avoids a division by zero, as HF does
  const extrapolation = defaultInvFreq(dims, base);
  const invFreq = extrapolation.map((f, i) => {
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    const extrapolationFactor = 1 - ramp;
    return (f / factor) * (1 - extrapolationFactor) + f * extrapolationFactor;
  });
  return { invFreq, attentionFactor };
}

/** Inverse frequencies and attention factor for `dims` rotated features, as HF computes them. */
export function ropeParameters(dims: number, base: number, scaling?: RopeScaling): RopeParameters {
  positive(base, "base");
  const inv = defaultInvFreq(dims, base);
  if (!scaling) return { invFreq: inv, attentionFactor: 1 };
  switch (scaling.type) {
    case "linear": {
      const factor = positive(scaling.factor, "scaling.factor");
      return { invFreq: inv.map((f) => f / factor), attentionFactor: 1 };
    }
    case "llama3":
      return { invFreq: llama3(inv, scaling), attentionFactor: 1 };
    case "yarn":
      return yarn(dims, base, scaling);
    default:
      throw new Error(`rope: unknown scaling type ${JSON.stringify((scaling as { type?: unknown }).type)}; expected "linear", "llama3" or "yarn"`);
  }
}

/**
 * Reads a Hugging Face config's `rope_scaling` (or `rope_parameters`) object: undefined for none or
 * "default", else the matching RopeScaling. Throws on types this library does not implement.
 */
export function ropeScalingFromConfig(cfg: Record<string, unknown> | null | undefined, maxPositionEmbeddings?: number): RopeScaling | undefined {
  if (!cfg) return undefined;
  const type = (cfg.rope_type ?? cfg.type) as string | undefined;
  const num = (k: string) => (typeof cfg[k] === "number" ? (cfg[k] as number) : undefined);
  const orig = num("original_max_position_embeddings") ?? maxPositionEmbeddings;
  switch (type) {
    case undefined: case "default": return undefined;
    case "linear": return { type: "linear", factor: num("factor") as number };
    case "llama3":
      return {
        type: "llama3", factor: num("factor") as number, lowFreqFactor: num("low_freq_factor") as number,
        highFreqFactor: num("high_freq_factor") as number, originalMaxPositionEmbeddings: orig as number,
      };
    case "yarn":
      return {
        type: "yarn", factor: num("factor") as number, originalMaxPositionEmbeddings: orig as number,
        betaFast: num("beta_fast"), betaSlow: num("beta_slow"), mscale: num("mscale"), mscaleAllDim: num("mscale_all_dim"),
        attentionFactor: num("attention_factor"), truncate: typeof cfg.truncate === "boolean" ? cfg.truncate : undefined,
      };
    default:
      throw new Error(`rope: rope_scaling type "${type}" is not supported (supported: default, linear, llama3, yarn)`);
  }
}
