/** Helpers of the augmentation tests: painted in-memory samples whose pixels reveal where the region went. */
import {
  cloneSample,
  labelsFromRows,
  rasterizeRect,
  type Sample,
  type SampleSource,
} from "../../src/data/augment/index.js";
import type { PixelRect } from "../../src/data/schema.js";

/** Colour of pixels inside the labelled region, and outside it. */
export const INSIDE = [220, 20, 20] as const;
export const OUTSIDE = [20, 20, 220] as const;

/**
 * A `width × height` sample whose pixels are {@link INSIDE} where the region's mask is 1 and {@link OUTSIDE}
 * elsewhere; `rows` are label rows `[cls, x1, y1, x2, y2, ...attributes]` in pixels.
 */
export function paintedSample(
  width: number,
  height: number,
  region: PixelRect | null,
  rows: number[][] = [],
  numAttributes = 7,
): Sample {
  const mask = region
    ? rasterizeRect(width, height, region)
    : { data: new Uint8Array(width * height).fill(1), width, height };
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(mask.data[p] ? INSIDE : OUTSIDE, p * 3);
  return { image: { data, width, height }, mask, labels: labelsFromRows(rows, numAttributes) };
}

/** A {@link SampleSource} over samples in memory; records which indices each call loaded. */
export class MemorySource implements SampleSource {
  readonly loads: number[] = [];
  constructor(readonly samples: readonly Sample[]) {}
  get length(): number {
    return this.samples.length;
  }
  async load(index: number): Promise<Sample> {
    this.loads.push(index);
    return cloneSample(this.samples[index]!);
  }
}

/** Bounding box [x1, y1, x2, y2] (pixel edges) of the mask's 1-pixels, or null when it has none. */
export function maskBounds(mask: {
  data: Uint8Array;
  width: number;
  height: number;
}): [number, number, number, number] | null {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x] !== 1) continue; // labelled pixels (not 0, not padding)
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + 1);
      y2 = Math.max(y2, y + 1);
    }
  }
  return x2 < 0 ? null : [x1, y1, x2, y2];
}

/** True when some mask pixel within `radius` pixels (Chebyshev) of the point (x, y) is 1. */
export function maskNear(
  mask: { data: Uint8Array; width: number; height: number },
  x: number,
  y: number,
  radius = 1,
): boolean {
  const cx = Math.floor(x);
  const cy = Math.floor(y);
  for (let j = cy - radius; j <= cy + radius; j++) {
    for (let i = cx - radius; i <= cx + radius; i++) {
      if (i >= 0 && j >= 0 && i < mask.width && j < mask.height && mask.data[j * mask.width + i] === 1) return true;
    }
  }
  return false;
}

/** The label rows of a sample as arrays. */
export function rowsOf(sample: Sample): number[][] {
  const stride = 5 + sample.labels.numAttributes;
  return Array.from({ length: sample.labels.count }, (_, r) =>
    Array.from(sample.labels.data.subarray(r * stride, (r + 1) * stride)),
  );
}
