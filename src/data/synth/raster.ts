/**
 * Pixel buffers of the film renderer. Objects are drawn as optical density (OD, absorbance per RGB channel) that adds
 * up where objects overlap (Beer–Lambert), which is how stained cells darken each other on a real film; the final image
 * is background · exp(−OD) under uneven illumination, plus sensor noise.
 */
import type { Rng } from "./rng.js";

/** RGB triple (optical densities or intensities, by context). */
export type Rgb = readonly [number, number, number];

/** An interleaved RGB optical-density image (Float32, 3 values per pixel, row-major). */
export class OdCanvas {
  readonly od: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.od = new Float32Array(width * height * 3);
  }
}

/**
 * Smooth random texture: random values on a square lattice, interpolated with a smoothstep (value noise). The lattice
 * is rotated by a random angle so that thresholded textures (chromatin clumps) show no axis-aligned blockiness.
 */
export class ValueNoise {
  private readonly lattice: Float32Array;
  private readonly cols: number;
  private readonly invPeriod: number;
  private readonly cos: number;
  private readonly sin: number;
  private readonly limit: number;

  /**
   * @param rng source of the lattice values (uniform in [0, 1)) and of the rotation
   * @param cx centre x of the disc to cover, in image pixels
   * @param cy centre y of the disc to cover
   * @param radius radius of the disc to cover
   * @param period lattice spacing in pixels (the size of the texture's blobs)
   */
  constructor(
    rng: Rng,
    private readonly cx: number,
    private readonly cy: number,
    private readonly radius: number,
    period: number,
  ) {
    this.invPeriod = 1 / Math.max(period, 1e-3);
    this.cols = Math.ceil(2 * radius * this.invPeriod) + 3;
    this.limit = this.cols - 2;
    this.lattice = new Float32Array(this.cols * this.cols);
    for (let i = 0; i < this.lattice.length; i++) this.lattice[i] = rng.float();
    const angle = rng.range(0, Math.PI / 2);
    this.cos = Math.cos(angle);
    this.sin = Math.sin(angle);
  }

  /** Texture value in [0, 1] at image point (x, y) (constant beyond the covered disc). */
  sample(x: number, y: number): number {
    const dx = x - this.cx;
    const dy = y - this.cy;
    let gx = (dx * this.cos + dy * this.sin + this.radius) * this.invPeriod;
    let gy = (dy * this.cos - dx * this.sin + this.radius) * this.invPeriod;
    gx = gx < 0 ? 0 : Math.min(gx, this.limit);
    gy = gy < 0 ? 0 : Math.min(gy, this.limit);
    const ix = Math.floor(gx);
    const iy = Math.floor(gy);
    let fx = gx - ix;
    let fy = gy - iy;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    const i = iy * this.cols + ix;
    const l = this.lattice;
    const top = l[i]! + (l[i + 1]! - l[i]!) * fx;
    const bottom = l[i + this.cols]! + (l[i + this.cols + 1]! - l[i + this.cols]!) * fx;
    return top + (bottom - top) * fy;
  }
}

/**
 * Box blur of an interleaved 3-channel image in place, radius `r` (window 2r+1), horizontal then vertical, with
 * clamped edges; O(1) per pixel whatever the radius. Two passes approximate a Gaussian of σ ≈ r·0.8 + 0.4.
 */
export function boxBlur3(data: Float32Array, width: number, height: number, r: number): void {
  if (r <= 0) return;
  const norm = 1 / (2 * r + 1);
  const line = new Float32Array(Math.max(width, height) * 3);
  // Horizontal pass.
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    line.set(data.subarray(row, row + width * 3));
    for (let ch = 0; ch < 3; ch++) {
      let sum = 0;
      for (let k = -r; k <= r; k++) sum += line[Math.min(width - 1, Math.max(0, k)) * 3 + ch]!;
      for (let x = 0; x < width; x++) {
        data[row + x * 3 + ch] = sum * norm;
        const add = Math.min(width - 1, x + r + 1);
        const sub = Math.max(0, x - r);
        sum += line[add * 3 + ch]! - line[sub * 3 + ch]!;
      }
    }
  }
  // Vertical pass, a column at a time.
  const stride = width * 3;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const s = y * stride + x * 3;
      line[y * 3] = data[s]!;
      line[y * 3 + 1] = data[s + 1]!;
      line[y * 3 + 2] = data[s + 2]!;
    }
    for (let ch = 0; ch < 3; ch++) {
      let sum = 0;
      for (let k = -r; k <= r; k++) sum += line[Math.min(height - 1, Math.max(0, k)) * 3 + ch]!;
      for (let y = 0; y < height; y++) {
        data[y * stride + x * 3 + ch] = sum * norm;
        const add = Math.min(height - 1, y + r + 1);
        const sub = Math.max(0, y - r);
        sum += line[add * 3 + ch]! - line[sub * 3 + ch]!;
      }
    }
  }
}

/** Lowest optical density the exp table covers (negative = brighter than the background: refractile spots). */
const OD_MIN = -1;
/** Highest optical density the exp table covers; anything denser is black anyway (e^-8 · 255 < 0.1). */
const OD_MAX = 8;
/** Table steps per unit of optical density (error < 0.2% of the intensity, under half a grey level). */
const OD_STEPS = 512;
const EXP_TABLE = (() => {
  const t = new Float32Array((OD_MAX - OD_MIN) * OD_STEPS + 1);
  for (let i = 0; i < t.length; i++) t[i] = Math.exp(-(OD_MIN + i / OD_STEPS));
  return t;
})();

/** How the film is lit and photographed: the parameters of {@link developFilm}. */
export interface Exposure {
  /** Background (unstained) intensity per channel, 0..255. */
  background: Rgb;
  /** Illumination gain per column and per row (multiplied together), ~1. */
  columnGain: Float32Array;
  rowGain: Float32Array;
  /** Amplitude of the uniform sensor noise, in grey levels (± this value). */
  noise: number;
  /** Seed of the noise pattern. */
  noiseSeed: number;
}

/** Turns an OD canvas into 8-bit RGB: background · gain · exp(−OD) + noise, rounded and clamped. */
export function developFilm(canvas: OdCanvas, exposure: Exposure): Uint8Array {
  const { width, height, od } = canvas;
  const out = new Uint8Array(width * height * 3);
  const [br, bg, bb] = exposure.background;
  const amp = exposure.noise;
  // Inline xorshift32: one draw gives three 10-bit uniforms, one per channel.
  let state = exposure.noiseSeed | 0 || 0x1234567;
  const noiseScale = (2 * amp) / 1024;
  const maxIndex = EXP_TABLE.length - 1;
  for (let y = 0; y < height; y++) {
    const gy = exposure.rowGain[y]!;
    for (let x = 0; x < width; x++) {
      const g = gy * exposure.columnGain[x]!;
      const i = (y * width + x) * 3;
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      let t0 = ((od[i]! - OD_MIN) * OD_STEPS) | 0;
      let t1 = ((od[i + 1]! - OD_MIN) * OD_STEPS) | 0;
      let t2 = ((od[i + 2]! - OD_MIN) * OD_STEPS) | 0;
      t0 = t0 < 0 ? 0 : Math.min(t0, maxIndex);
      t1 = t1 < 0 ? 0 : Math.min(t1, maxIndex);
      t2 = t2 < 0 ? 0 : Math.min(t2, maxIndex);
      const n0 = (state & 1023) * noiseScale - amp;
      const n1 = ((state >>> 10) & 1023) * noiseScale - amp;
      const n2 = ((state >>> 20) & 1023) * noiseScale - amp;
      // A Uint8Array store wraps modulo 256, so clamp explicitly; the +0.5 above rounds to nearest.
      const v0 = br * g * EXP_TABLE[t0]! + n0 + 0.5;
      const v1 = bg * g * EXP_TABLE[t1]! + n1 + 0.5;
      const v2 = bb * g * EXP_TABLE[t2]! + n2 + 0.5;
      out[i] = v0 <= 0 ? 0 : Math.min(v0, 255);
      out[i + 1] = v1 <= 0 ? 0 : Math.min(v1, 255);
      out[i + 2] = v2 <= 0 ? 0 : Math.min(v2, 255);
    }
  }
  return out;
}

/** A rectangle of integer pixels clipped to the canvas: [x0, x1) × [y0, y1). */
export interface PixelSpan {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The integer pixel span of a floating box, clipped to a width × height image (may be empty: x0 >= x1). */
export function clipSpan(box: { x1: number; y1: number; x2: number; y2: number }, width: number, height: number) {
  return {
    x0: Math.max(0, Math.floor(box.x1)),
    y0: Math.max(0, Math.floor(box.y1)),
    x1: Math.min(width, Math.ceil(box.x2)),
    y1: Math.min(height, Math.ceil(box.y2)),
  } satisfies PixelSpan;
}
