// Whisper's log-mel front end on @tessera/core ops, exactly as openai-whisper's log_mel_spectrogram:
// STFT (n_fft 400, hop 160, periodic Hann, reflect padding as torch.stft(center=True)), power
// spectrum, Slaney mel filters (librosa's, from mel_filters.npz), log10 with a 1e-10 floor, an 8
// (x 10 dB) dynamic range below the maximum, then (x + 4) / 4.
import {
  Tensor, add, concatenate, fft, io, log, matmul, max, maximum, multiply, pad, reshape, slice, square, subtract, sum, tensor, tidy,
} from "@tessera/core";
import { join } from "node:path";
import { ASSETS_DIR } from "./assets.js";

export const N_FFT = 400;
export const HOP_LENGTH = 160;
/** Seconds of audio in one Whisper window. */
export const CHUNK_LENGTH = 30;
/** Samples in a 30 s window at 16 kHz. */
export const N_SAMPLES = 480_000;
/** Mel frames in a 30 s window. */
export const N_FRAMES = 3000;

/** The mel bin counts Whisper uses: 80, or 128 for large-v3. */
export type MelBins = 80 | 128;

export interface LogMelOptions {
  /** Mel bins: 80 (default) or 128 (large-v3). */
  nMels?: MelBins;
  /** Zero samples appended before the STFT (openai-whisper's `padding`; transcribe uses N_SAMPLES). */
  padding?: number;
  /** Filters [nMels, 201] to use instead of reading them from mel_filters.npz (see melFilters). */
  filters?: Tensor;
}

/**
 * Whisper's mel filterbank [nMels, 201] (librosa's Slaney filters, as openai-whisper ships them in
 * mel_filters.npz). Read from this package's assets, or from `path`.
 */
export function melFilters(nMels: MelBins = 80, path = join(ASSETS_DIR, "mel_filters.npz")): Tensor {
  if (nMels !== 80 && nMels !== 128) throw new Error(`nMels must be 80 or 128, got ${String(nMels)}`);
  const { tensors } = io.readNpz(path);
  const filters = tensors.get(`mel_${nMels}`);
  if (!filters) throw new Error(`'${path}' has no array mel_${nMels}`);
  return filters;
}

/** The periodic Hann window (torch.hann_window's default). */
function hannWindow(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

/**
 * Frames of `x` (1-D, length >= N_FFT) every HOP_LENGTH samples, [frames, N_FFT]. Built from views:
 * rows of HOP_LENGTH samples side by side (a frame spans 2.5 rows), so no index tensor is needed.
 */
function frame(x: Tensor, frames: number): Tensor {
  const rowsPerFrame = Math.ceil(N_FFT / HOP_LENGTH);
  const rows = frames + rowsPerFrame - 1;
  const need = rows * HOP_LENGTH;
  const padded = need >= x.shape[0] ? pad(x, [0, need - x.shape[0]]) : slice(x, [0], [need]);
  const r = reshape(padded, [rows, HOP_LENGTH]);
  const shifted = Array.from({ length: rowsPerFrame }, (_, k) => slice(r, [k], [k + frames]));
  return slice(concatenate(shifted, 1), [0, 0], [frames, N_FFT]);
}

/**
 * The log-mel spectrogram of 16 kHz mono `audio`, as openai-whisper's `log_mel_spectrogram`
 * (the last STFT frame dropped): float32 [nFrames, nMels] with nFrames = floor((length +
 * padding) / 160). Frames are rows (channels-last, as mlx-whisper and our conv1d), the transpose
 * of openai-whisper's (n_mels, n_frames). The dynamic-range floor uses the maximum over the whole
 * input. Needs at least 201 samples after padding (torch.stft's reflect padding needs that too).
 */
export function logMelSpectrogram(audio: Float32Array | Tensor, options: LogMelOptions = {}): Tensor {
  const nMels = options.nMels ?? 80;
  const padding = options.padding ?? 0;
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`logMelSpectrogram: padding must be a non-negative integer, got ${String(padding)}`);
  let x = audio instanceof Tensor ? audio : tensor(audio);
  if (x.ndim !== 1) throw new Error(`logMelSpectrogram: audio must be 1-D (mono samples), got shape [${x.shape.join(", ")}]`);
  if (x.dtype !== "float32") x = x.astype("float32");
  const half = N_FFT / 2;
  const n = x.shape[0] + padding;
  if (n <= half)
    throw new Error(`logMelSpectrogram: ${n} samples are too few for a ${N_FFT}-point STFT (at least ${half + 1} needed); pad the audio (the padding option, or padOrTrim to N_SAMPLES)`);
  const filters = options.filters ?? melFilters(nMels);
  if (filters.ndim !== 2 || filters.shape[1] !== half + 1)
    throw new Error(`logMelSpectrogram: filters must be [nMels, ${half + 1}], got [${filters.shape.join(", ")}]`);
  if (padding > 0) x = pad(x, [0, padding]);
  // Reflect padding by N_FFT/2 on both sides (torch.stft center=True, pad_mode="reflect").
  const left = slice(x, [half], [0], [-1]);
  const right = slice(x, [n - 2], [n - 2 - half], [-1]);
  const centered = concatenate([left, x, right]);
  // The last STFT frame is dropped, as openai-whisper does.
  const logSpec = log10Mel(centered, Math.floor(n / HOP_LENGTH), filters);
  const floored = maximum(logSpec, subtract(max(logSpec), 8));
  return multiply(add(floored, 4), 0.25);
}

/** log10 of the mel power of the first `frames` frames of reflect-padded samples: [frames, nMels]. */
function log10Mel(centered: Tensor, frames: number, filters: Tensor): Tensor {
  const windowed = multiply(frame(centered, frames), tensor(hannWindow(N_FFT)));
  const spectrum = fft.rfft(windowed, N_FFT, -1); // [frames, 201, 2]
  const mel = matmul(sum(square(spectrum), -1), filters.T);
  return multiply(log(maximum(mel, 1e-10)), 1 / Math.LN10);
}

/** A log-mel spectrogram held in JS memory: `frames` rows of `nMels` values. */
export interface MelFrames {
  data: Float32Array;
  frames: number;
  nMels: number;
}

/**
 * The same values as {@link logMelSpectrogram}, computed `chunkFrames` frames at a time so long
 * audio (hours) needs memory for its samples and the result only, not for the whole STFT. Returns
 * the frames in a Float32Array ([frames, nMels] row-major) to slice windows from.
 */
export function logMelFrames(audio: Float32Array, options: LogMelOptions & { chunkFrames?: number } = {}): MelFrames {
  const padding = options.padding ?? 0;
  const chunkFrames = options.chunkFrames ?? N_FRAMES;
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`logMelFrames: padding must be a non-negative integer, got ${String(padding)}`);
  if (!Number.isInteger(chunkFrames) || chunkFrames < 1) throw new Error(`logMelFrames: chunkFrames must be a positive integer, got ${String(chunkFrames)}`);
  const half = N_FFT / 2;
  const n = audio.length + padding;
  if (n <= half)
    throw new Error(`logMelFrames: ${n} samples are too few for a ${N_FFT}-point STFT (at least ${half + 1} needed); pad the audio (the padding option)`);
  const filters = options.filters ?? melFilters(options.nMels ?? 80);
  const nMels = filters.shape[0];
  const frames = Math.floor(n / HOP_LENGTH);
  const data = new Float32Array(frames * nMels);
  // Sample i of the padded signal (zeros past the audio), reflected at both ends as torch.stft does.
  const sample = (i: number): number => {
    const j = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
    return j < audio.length ? audio[j] : 0;
  };
  let top = -Infinity;
  for (let f0 = 0; f0 < frames; f0 += chunkFrames) {
    const count = Math.min(chunkFrames, frames - f0);
    const span = (count - 1) * HOP_LENGTH + N_FFT;
    const chunk = new Float32Array(span);
    const first = f0 * HOP_LENGTH - half;
    for (let k = 0; k < span; k++) chunk[k] = sample(first + k);
    // tidy frees each chunk's tensors now, not whenever the GC gets to their wrappers.
    const values = tidy(() => log10Mel(tensor(chunk), count, filters).dataSync() as Float32Array);
    data.set(values, f0 * nMels);
    for (let k = 0; k < values.length; k++) if (values[k] > top) top = values[k];
  }
  const floor = top - 8;
  for (let k = 0; k < data.length; k++) data[k] = ((data[k] > floor ? data[k] : floor) + 4) * 0.25;
  return { data, frames, nMels };
}

/**
 * Pads with zeros or trims `x` along `axis` to `length` (openai-whisper's pad_or_trim): audio to
 * N_SAMPLES, or a [frames, nMels] spectrogram to N_FRAMES along axis 0.
 */
export function padOrTrim(x: Tensor, length: number = N_SAMPLES, axis = -1): Tensor {
  if (!Number.isInteger(length) || length < 0) throw new Error(`padOrTrim: length must be a non-negative integer, got ${String(length)}`);
  const ax = axis < 0 ? axis + x.ndim : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= x.ndim) throw new Error(`padOrTrim: axis ${axis} is out of range for shape [${x.shape.join(", ")}]`);
  const size = x.shape[ax];
  if (size > length) {
    const stop = [...x.shape];
    stop[ax] = length;
    return slice(x, x.shape.map(() => 0), stop);
  }
  if (size < length) return pad(x, x.shape.map((_, i) => (i === ax ? [0, length - size] : [0, 0])));
  return x;
}
