// Native memory: stats of the caching allocator, its cache, and a limit on live bytes.
import { native } from "./native.js";

export interface MemoryStats {
  /** Bytes held by live tensors. */
  active: number;
  /** Highest `active` since start or resetPeak(). */
  peak: number;
  /** Bytes kept in the cache for reuse. */
  cache: number;
  /** The limit on `active` (0 = none). */
  limit: number;
}

export function stats(): MemoryStats {
  return native.memoryStats();
}
export function clearCache(): void {
  native.memoryControl("clearCache");
}
export function resetPeak(): void {
  native.memoryControl("resetPeak");
}
/** Allocations that would take `active` past `bytes` throw (0 removes the limit). */
export function setLimit(bytes: number): void {
  if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`memory limit must be a non-negative number of bytes, got ${bytes}`);
  native.memoryControl("setLimit", bytes);
}
/** The most bytes kept cached for reuse. */
export function setCacheLimit(bytes: number): void {
  if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new Error(`cache limit must be a non-negative number of bytes, got ${bytes}`);
  native.memoryControl("setCacheLimit", bytes);
}
