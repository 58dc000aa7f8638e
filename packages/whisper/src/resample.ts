// Band-limited resampling with a Kaiser-windowed sinc (polyphase), and channel downmixing.

/** Zero crossings of the sinc on each side of the centre (ffmpeg's swr uses 16 by default). */
const ZERO_CROSSINGS = 16;
/** Kaiser window shape and cutoff as a fraction of the lower Nyquist rate (swr's defaults). */
const KAISER_BETA = 9;
const CUTOFF = 0.97;
/** Above this many phases the taps are computed per output sample instead of tabulated. */
const MAX_TABLE_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for x < 50). */
function besselI0(x: number): number {
  let sum = 1, term = 1;
  const q = (x * x) / 4;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/**
 * Resamples mono `samples` from `fromRate` to `toRate` Hz. Each output sample at input time
 * t = n * fromRate / toRate is a Kaiser-windowed sinc interpolation of the input (zeros past
 * both ends), low-pass filtered at 0.97 of the lower of the two Nyquist rates so that downsampling
 * does not alias. Output length: ceil(length * toRate / fromRate).
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  for (const [name, r] of [["fromRate", fromRate], ["toRate", toRate]] as const)
    if (!Number.isInteger(r) || r <= 0) throw new Error(`resample: ${name} must be a positive integer (Hz), got ${String(r)}`);
  if (fromRate === toRate) return samples;
  const g = gcd(fromRate, toRate);
  const up = toRate / g, down = fromRate / g;
  const outLength = Math.ceil((samples.length * up) / down);
  const out = new Float32Array(outLength);
  if (samples.length === 0) return out;
  const fc = Math.min(1, toRate / fromRate) * CUTOFF; // cutoff in cycles per 2 input samples
  const halfWidth = ZERO_CROSSINGS / fc; // in input samples
  const K = Math.ceil(halfWidth);
  const i0Beta = besselI0(KAISER_BETA);
  const taps = (frac: number, into: Float64Array): void => {
    // into[j] weighs input sample (floor(t) - K + 1 + j) where frac = t - floor(t).
    let sum = 0;
    for (let j = 0; j < 2 * K; j++) {
      const x = frac + K - 1 - j;
      let w = 0;
      if (Math.abs(x) < halfWidth) {
        const r = x / halfWidth;
        const s = x === 0 ? 1 : Math.sin(Math.PI * fc * x) / (Math.PI * fc * x);
        w = s * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta);
      }
      into[j] = w;
      sum += w;
    }
    for (let j = 0; j < 2 * K; j++) into[j] /= sum; // unit DC gain in every phase
  };
  const tabulated = up <= MAX_TABLE_PHASES;
  const table = tabulated ? Array.from({ length: up }, (_, p) => {
    const t = new Float64Array(2 * K);
    taps(p / up, t);
    return t;
  }) : [];
  const scratch = new Float64Array(2 * K);
  const n = samples.length;
  for (let o = 0; o < outLength; o++) {
    const num = o * down; // exact integer: input time is num / up
    const base = Math.floor(num / up);
    const phase = num - base * up;
    let h: Float64Array;
    if (tabulated) h = table[phase];
    else {
      taps(phase / up, scratch);
      h = scratch;
    }
    const start = base - K + 1;
    const jFrom = Math.max(0, -start), jTo = Math.min(2 * K, n - start);
    let acc = 0;
    for (let j = jFrom; j < jTo; j++) acc += h[j] * samples[start + j];
    out[o] = acc;
  }
  return out;
}

/** Averages the channels into one (as `ffmpeg -ac 1` does for stereo). */
export function downmix(channels: Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  if (channels.length === 1) return channels[0];
  const length = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(length);
  const scale = 1 / channels.length;
  for (let i = 0; i < length; i++) {
    let s = 0;
    for (const c of channels) s += c[i];
    out[i] = s * scale;
  }
  return out;
}
