// A small seeded generator for sampling on the host: xoshiro128** (Blackman & Vigna), its state
// filled from the seed by splitmix32. Same seed, same draws, on every platform.

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A reproducible stream of uniform numbers. */
export class Prng {
  private readonly s = new Uint32Array(4);

  /** `seed`: any safe integer (its low 53 bits are used). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`A seed must be a safe integer, got ${seed}`);
    const st = { s: (seed % 0x100000000) | 0 };
    const high = Math.floor(seed / 0x100000000) | 0;
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(st) ^ (i === 1 ? high : 0);
    if (this.s.every((x) => x === 0)) this.s[0] = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** A uniform number in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
