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
  /** A canvas over `buffer` (zero-filled by the caller) or over a new zeroed buffer. */
  constructor(
    readonly width: number,
    readonly height: number,
    buffer?: Float32Array,
  ) {
    if (buffer && buffer.length !== width * height * 3) throw new RangeError("canvas buffer has the wrong length");
    this.od = buffer ?? new Float32Array(width * height * 3);
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
 * clamped edges. Each output is a direct sum of its window (no running sum, whose rounding drift would let a change
 * in one place alter pixels far away); both passes walk memory in order. Two passes approximate a Gaussian of
 * σ ≈ r·0.8 + 0.4. `scratch` (same length as `data`) is overwritten.
 */
export function boxBlur3(data: Float32Array, width: number, height: number, r: number, scratch: Float32Array): void {
  if (r <= 0) return;
  const norm = 1 / (2 * r + 1);
  const stride = width * 3;
  // Horizontal pass: data → scratch.
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = 0; x < width; x++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let k = -r; k <= r; k++) {
        const xx = x + k;
        const i = row + (xx < 0 ? 0 : Math.min(xx, width - 1)) * 3;
        s0 += data[i]!;
        s1 += data[i + 1]!;
        s2 += data[i + 2]!;
      }
      const o = row + x * 3;
      scratch[o] = s0 * norm;
      scratch[o + 1] = s1 * norm;
      scratch[o + 2] = s2 * norm;
    }
  }
  // Vertical pass: scratch → data, row by row.
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let j = 0; j < stride; j++) {
      let sum = 0;
      for (let k = -r; k <= r; k++) {
        const yy = y + k;
        sum += scratch[(yy < 0 ? 0 : Math.min(yy, height - 1)) * stride + j]!;
      }
      data[row + j] = sum * norm;
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
const EXP_LAST = EXP_TABLE.length - 1;

/** Transmission exp(−od) from the table. */
function transmission(od: number): number {
  const t = ((od - OD_MIN) * OD_STEPS) | 0;
  return EXP_TABLE[t < 0 ? 0 : Math.min(t, EXP_LAST)]!;
}

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
  /** Defocus: box-blur radius and number of passes, applied to the light (before noise). */
  blurRadius: number;
  blurPasses: number;
}

/** A density layer added to the OD in one colour (the red cells). */
export interface DensityLayer {
  density: Float32Array;
  colour: Rgb;
}

/**
 * Turns an OD canvas (plus an optional density layer) into 8-bit RGB: background · gain · exp(−OD), blurred when the
 * exposure is defocused, plus sensor noise, rounded and clamped. Overwrites the canvas (it holds the light after).
 * `scratch` is a buffer as long as the canvas's, used by the blur.
 */
export function developFilm(
  canvas: OdCanvas,
  exposure: Exposure,
  layer: DensityLayer | null,
  scratch: Float32Array,
): Uint8Array {
  const { width, height, od } = canvas;
  const [br, bg, bb] = exposure.background;
  const [lr, lg, lb] = layer?.colour ?? [0, 0, 0];
  const density = layer?.density ?? null;
  // Light through the film, in place of the OD.
  for (let y = 0; y < height; y++) {
    const gy = exposure.rowGain[y]!;
    for (let x = 0; x < width; x++) {
      const g = gy * exposure.columnGain[x]!;
      const p = y * width + x;
      const i = p * 3;
      const d = density ? density[p]! : 0;
      od[i] = br * g * transmission(od[i]! + d * lr);
      od[i + 1] = bg * g * transmission(od[i + 1]! + d * lg);
      od[i + 2] = bb * g * transmission(od[i + 2]! + d * lb);
    }
  }
  for (let p = 0; p < exposure.blurPasses; p++) boxBlur3(od, width, height, exposure.blurRadius, scratch);
  // Sensor noise: an inline xorshift32, one draw giving three 10-bit uniforms (one per channel).
  const out = new Uint8Array(width * height * 3);
  const amp = exposure.noise;
  const noiseScale = (2 * amp) / 1024;
  let state = exposure.noiseSeed | 0 || 0x1234567;
  for (let i = 0; i < out.length; i += 3) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    // A Uint8Array store wraps modulo 256, so clamp explicitly; +0.5 rounds to nearest.
    const v0 = od[i]! + (state & 1023) * noiseScale - amp + 0.5;
    const v1 = od[i + 1]! + ((state >>> 10) & 1023) * noiseScale - amp + 0.5;
    const v2 = od[i + 2]! + ((state >>> 20) & 1023) * noiseScale - amp + 0.5;
    out[i] = v0 <= 0 ? 0 : Math.min(v0, 255);
    out[i + 1] = v1 <= 0 ? 0 : Math.min(v1, 255);
    out[i + 2] = v2 <= 0 ? 0 : Math.min(v2, 255);
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
