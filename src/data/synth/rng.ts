/**
 * A small, fast, seeded pseudo-random generator (sfc32, seeded through splitmix32), so that synthetic data is
 * reproducible byte for byte. Streams are derived from (seed, image index, purpose), so any image can be generated on
 * its own, in any order, and adding a new random draw to one purpose does not shift the numbers of another.
 */

/** One step of splitmix32: a strong 32-bit mixer used to derive seeds. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Hashes a list of integers (e.g. seed, image index, stream id) into one 32-bit seed. */
export function hashSeed(...parts: number[]): number {
  let h = 0x2545f491;
  for (const p of parts) {
    // Mix both the low and the high 32 bits so that large seeds (up to 2^53) stay distinct.
    h = mix32(h ^ (p >>> 0));
    h = mix32(h ^ Math.floor(p / 2 ** 32));
  }
  return h;
}

/** Named random streams of one image: each purpose draws from its own sequence. */
export const Stream = {
  scene: 1,
  region: 2,
  pixelNoise: 3,
  objects: 4,
} as const;

/** A seeded generator (sfc32: 128-bit state, passes PractRand to 2^40, ~1 ns per draw). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.a = mix32(seed);
    this.b = mix32(this.a ^ 0x6a09e667);
    this.c = mix32(this.b ^ 0xbb67ae85);
    this.d = 1;
    // Discard the first outputs, whose bits still correlate with the seed.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A generator for stream `stream` of image `index` under dataset seed `seed`. */
  static forImage(seed: number, index: number, stream: number): Rng {
    return new Rng(hashSeed(seed, index, stream));
  }

  /** Uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal (Marsaglia polar method). */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    for (;;) {
      const u = 2 * this.float() - 1;
      const v = 2 * this.float() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * f;
        return u * f;
      }
    }
  }

  /** Normal with mean `mean` and standard deviation `sd`, clamped to [lo, hi]. */
  normalClamped(mean: number, sd: number, lo: number, hi: number): number {
    return Math.min(hi, Math.max(lo, mean + sd * this.normal()));
  }

  /** Index drawn with probability proportional to `weights[i]` (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** A fresh 32-bit seed for a sub-generator (e.g. one object's texture). */
  fork(): number {
    return this.u32();
  }
}
