// The numeric pieces of word timing (openai-whisper's whisper/timing.py): the median filter that
// smooths the attention weights and the dynamic time warping that aligns tokens to audio frames.
// Plain JS over typed arrays: the matrices are small (tokens x frames) and DTW is sequential.
import { Tensor, tensor } from "@tessera/core";

function checkWidth(filterWidth: number): void {
  if (!Number.isInteger(filterWidth) || filterWidth <= 0 || filterWidth % 2 !== 1)
    throw new Error(`medianFilter: filterWidth must be a positive odd integer, got ${String(filterWidth)}`);
}

/**
 * The median filter over rows of length `n` of `data` (in place of a copy): reflect padding as
 * PyTorch's F.pad(mode="reflect"), the middle of each sorted window. Rows no longer than
 * filterWidth / 2 come back unchanged, as openai-whisper's median_filter returns them.
 */
export function medianFilterRows(data: Float32Array, n: number, filterWidth: number): Float32Array {
  checkWidth(filterWidth);
  const pad = filterWidth >> 1;
  if (n <= pad || pad === 0) return Float32Array.from(data);
  const out = new Float32Array(data.length);
  const window = new Float32Array(filterWidth);
  for (let base = 0; base < data.length; base += n) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < filterWidth; k++) {
        let j = i + k - pad;
        if (j < 0) j = -j;
        else if (j >= n) j = 2 * (n - 1) - j;
        // Insertion sort: the window is small (7 for word timing).
        const v = data[base + j];
        let m = k;
        // NaN sorts last, as torch.sort puts it.
        while (m > 0 && (window[m - 1] > v || (Number.isNaN(window[m - 1]) && !Number.isNaN(v)))) {
          window[m] = window[m - 1];
          m--;
        }
        window[m] = v;
      }
      out[base + i] = window[pad];
    }
  }
  return out;
}

/**
 * openai-whisper's `median_filter`: a median filter of width `filterWidth` (odd) along the last axis
 * of x, with reflect padding. Returns float32 of x's shape; x unchanged (as float32) when its last
 * axis is no longer than filterWidth / 2.
 */
export function medianFilter(x: Tensor, filterWidth: number): Tensor {
  checkWidth(filterWidth);
  if (x.ndim < 1) throw new Error("medianFilter: x must have at least one dimension, got a scalar");
  const data = Float32Array.from(x.astype("float32").dataSync() as Float32Array);
  const n = x.shape[x.ndim - 1];
  const out = n === 0 ? data : medianFilterRows(data, n, filterWidth);
  return tensor(out, { shape: x.shape });
}

/** A monotonic alignment path: token (row) and frame (column) indices, from the first cell to the last. */
export interface DtwPath {
  textIndices: number[];
  timeIndices: number[];
}

/**
 * openai-whisper's `dtw_cpu` on a row-major [n, m] cost matrix (float64 values): cumulative costs in
 * float32 as its cost array holds them, the same tie rules (diagonal only when strictly cheapest, then
 * up when strictly cheapest, else left), and its backtrace.
 */
export function dtwCpu(x: ArrayLike<number>, n: number, m: number): DtwPath {
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 1 || x.length !== n * m)
    throw new Error(`dtw: expected a non-empty [n, m] cost matrix, got ${x.length} values for [${n}, ${m}]`);
  const w = m + 1;
  const cost = new Float32Array((n + 1) * w).fill(Infinity);
  const trace = new Int8Array((n + 1) * w).fill(-1);
  cost[0] = 0;
  for (let j = 1; j <= m; j++) {
    for (let i = 1; i <= n; i++) {
      const c0 = cost[(i - 1) * w + j - 1];
      const c1 = cost[(i - 1) * w + j];
      const c2 = cost[i * w + j - 1];
      let c: number, t: number;
      if (c0 < c1 && c0 < c2) [c, t] = [c0, 0];
      else if (c1 < c0 && c1 < c2) [c, t] = [c1, 1];
      else [c, t] = [c2, 2];
      cost[i * w + j] = x[(i - 1) * m + j - 1] + c; // stored as float32, as numba does
      trace[i * w + j] = t;
    }
  }
  // backtrace
  for (let j = 0; j <= m; j++) trace[j] = 2;
  for (let i = 0; i <= n; i++) trace[i * w] = 1;
  const text: number[] = [];
  const time: number[] = [];
  let i = n, j = m;
  while (i > 0 || j > 0) {
    text.push(i - 1);
    time.push(j - 1);
    const t = trace[i * w + j];
    if (t === 0) { i--; j--; } else if (t === 1) i--;
    else if (t === 2) j--;
    else throw new Error("dtw: unexpected trace value");
  }
  return { textIndices: text.reverse(), timeIndices: time.reverse() };
}

/**
 * openai-whisper's `dtw` (its CPU implementation): the cheapest monotonic path through a cost
 * matrix [tokens, frames], given as a 2-D Tensor or rows of numbers (compared in float64).
 */
export function dtw(x: Tensor | readonly (readonly number[])[]): DtwPath {
  if (x instanceof Tensor) {
    if (x.ndim !== 2) throw new Error(`dtw: x must be 2-D [tokens, frames], got shape [${x.shape.join(", ")}]`);
    const data = Array.from(x.dataSync() as ArrayLike<number | bigint>, Number);
    return dtwCpu(data, x.shape[0], x.shape[1]);
  }
  const m = x[0]?.length ?? 0;
  if (x.some((r) => r.length !== m)) throw new Error("dtw: every row of x must have the same length");
  return dtwCpu(x.flat(), x.length, m);
}

/** Python's round(x, 2) on a float: the nearest hundredth, exact ties to even (only x = k/8 can tie). */
export function round2(x: number): number {
  const y = x * 100;
  if (Number.isInteger(x * 8) && !Number.isInteger(y) && Number.isInteger(y * 2)) {
    const f = Math.floor(y);
    return (f % 2 === 0 ? f : f + 1) / 100;
  }
  return Number(x.toFixed(2));
}
