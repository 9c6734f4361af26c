/**
 * Per-sample randomness: every sample's random numbers come from a PRNG seeded by a hash of (seed, epoch, index), so
 * an augmented sample does not depend on which worker made it or when, and a resumed run repeats the same data.
 */
import { Rng } from "../../util/random.js";

/** murmur3's 32-bit finaliser: a well-mixed hash of one 32-bit word. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A 32-bit hash of a sequence of integers (each folded in with a multiply-and-mix step). */
export function hashInts(...values: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    // Integers up to 2^53 are folded in as two 32-bit halves.
    const lo = v >>> 0;
    const hi = Math.floor(v / 4294967296) >>> 0;
    h = fmix32(Math.imul(h ^ lo, 0x01000193) + 0x7f4a7c15);
    h = fmix32(Math.imul(h ^ hi, 0x01000193) + 0x27d4eb2f);
  }
  return h;
}

/** Stream tags, so the sample PRNG and the epoch-order PRNG never share a seed. */
export const RNG_STREAM = Object.freeze({ sample: 1, order: 2 });

/** The PRNG of sample `index` in `epoch` of a run seeded with `seed`. */
export function sampleRng(seed: number, epoch: number, index: number): Rng {
  return new Rng(hashInts(RNG_STREAM.sample, seed, epoch, index));
}

/** The PRNG that orders an epoch's samples (shuffling). */
export function orderRng(seed: number, epoch: number): Rng {
  return new Rng(hashInts(RNG_STREAM.order, seed, epoch));
}

/** A random permutation of 0..n−1 (Fisher–Yates). */
export function permutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Gamma(shape, 1) by Marsaglia and Tsang's method (shape ≥ 1). */
function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * rng.next() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A draw from Beta(a, b). */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}
