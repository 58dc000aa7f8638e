// Real FFTs along one axis (NumPy's rfft/irfft). Complex values are a trailing axis of 2: (re, im).
import { callOp, Tensor } from "./tensor.js";

function checkArgs(op: string, a: Tensor, n: number | undefined, axis: number): void {
  if (!(a instanceof Tensor)) throw new Error(`${op}: expected a Tensor`);
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new Error(`${op}: n must be a positive integer, got ${String(n)}`);
  if (!Number.isInteger(axis)) throw new Error(`${op}: axis must be an integer, got ${String(axis)}`);
}

/**
 * The non-negative frequency terms of the discrete Fourier transform of real `a` along `axis`:
 * X[k] = sum_j a[j] e^{-2 pi i jk / n}, k = 0 .. n/2. The signal is cropped or zero-padded to `n`
 * (default: its length). Any length works (mixed radix 2/3/4/5, direct butterflies for other small
 * primes, Bluestein otherwise); float32 in and out.
 *
 * @returns float32 of a's shape with `axis` of size floor(n/2) + 1, plus a trailing axis of 2 (re, im).
 */
export function rfft(a: Tensor, n?: number, axis = -1): Tensor {
  checkArgs("fft.rfft", a, n, axis);
  return callOp("rfft", [a], { n: n ?? -1, axis });
}

/**
 * The inverse of rfft: the length-n real signal whose spectrum's non-negative terms are `x`
 * ([..., m, 2] with the frequencies on `axis`, the second-to-last by default). n defaults to
 * 2 (m - 1); bins past n/2 are ignored and missing ones taken as 0, and the imaginary parts of the
 * zero-frequency (and, for even n, the Nyquist) bins are ignored, as in NumPy. Normalized by 1/n.
 *
 * @returns float32 of x's shape without the last axis, with `axis` of size n.
 */
export function irfft(x: Tensor, n?: number, axis = -2): Tensor {
  checkArgs("fft.irfft", x, n, axis);
  return callOp("irfft", [x], { n: n ?? -1, axis });
}
