// The size of the CPU kernels' thread pool (defaults to the machine's cores).
import { native } from "./native.js";

export function numThreads(): number {
  return native.threads();
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected a positive integer, got ${n}`);
  native.threads(n);
}
