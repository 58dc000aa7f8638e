// The instruction-set level of the CPU kernels. One build runs on every x86-64 with AVX2; kernels
// with wider variants (AVX-512) pick theirs at run time. The runtime starts at the best level the
// CPU supports; setIsaLevel forces a lower one (to compare paths, or to measure the AVX2 kernels on
// an AVX-512 machine).
import { native } from "./native.js";

/** Every level the library knows, lowest first. */
export const ISA_LEVELS = ["avx2", "avx512", "avx512_vnni"] as const;

/**
 * A kernel level: `"avx2"` (AVX2 + FMA + F16C, the base), `"avx512"` (AVX-512 F/CD/BW/DQ/VL) or
 * `"avx512_vnni"` (AVX-512 with VNNI and BF16).
 */
export type IsaLevel = (typeof ISA_LEVELS)[number];

/** The level the kernels run at now. */
export function isaLevel(): IsaLevel {
  return native.isa() as IsaLevel;
}

/** The levels this CPU (and its OS) support, lowest first; always starts with `"avx2"`. */
export function supportedIsaLevels(): IsaLevel[] {
  return native.isaLevels() as IsaLevel[];
}

/**
 * Runs the kernels at `level` from the next evaluation on. Throws an Error naming the missing CPU
 * features when the CPU lacks the level, or listing the levels for an unknown name.
 */
export function setIsaLevel(level: IsaLevel): void {
  if (typeof level !== "string") throw new Error(`setIsaLevel: expected one of ${ISA_LEVELS.join(", ")}, got ${String(level)}`);
  try {
    native.isa(level);
  } catch (e) {
    throw new Error(`setIsaLevel: ${(e as Error).message}`);
  }
}
