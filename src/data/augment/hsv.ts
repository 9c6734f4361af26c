/**
 * HSV colour jitter (YOLOv5's `augment_hsv`): hue, saturation and value each multiplied by a random gain in
 * 1 ± gain, applied through lookup tables on OpenCV's 8-bit HSV (hue 0..179, saturation and value 0..255).
 * Colour only: the mask and the boxes are unchanged.
 */
import type { Rng } from "../../util/random.js";
import { applyHsvGainsRgb } from "../pixels/image-kernels.js";
import type { RgbImage } from "./types.js";

/** The three gains of {@link augmentHsv}. */
export interface HsvGains {
  /** Hue gain (hyp `hsv_h`). */
  h: number;
  /** Saturation gain (hyp `hsv_s`). */
  s: number;
  /** Value gain (hyp `hsv_v`). */
  v: number;
}

/**
 * The three random draws of {@link augmentHsv} in [−1, 1), or null when all gains are 0 (then nothing is drawn, as
 * YOLOv5's `augment_hsv` draws nothing).
 */
export function drawHsvUnits(gains: HsvGains, rng: Rng): [number, number, number] | null {
  if (gains.h === 0 && gains.s === 0 && gains.v === 0) return null;
  return [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
}

/** Applies draws of {@link drawHsvUnits} with `gains` scaled by `fraction` (1 = the full jitter, 0 = none). */
export function applyHsvUnits(
  image: RgbImage,
  units: readonly [number, number, number],
  gains: HsvGains,
  fraction = 1,
): void {
  if (fraction === 0) return;
  const [uh, us, uv] = units;
  applyHsvGains(image, uh * gains.h * fraction + 1, us * gains.s * fraction + 1, uv * gains.v * fraction + 1);
}

/** Jitters the colours of `image` in place with gains drawn from `rng`; nothing happens when all gains are 0. */
export function augmentHsv(image: RgbImage, gains: HsvGains, rng: Rng): void {
  const units = drawHsvUnits(gains, rng);
  if (units) applyHsvUnits(image, units, gains);
}

/**
 * Multiplies hue (mod 180), saturation and value (clipped to 255) of every pixel by the given factors, in place,
 * through lookup tables on OpenCV's 8-bit HSV: `augment_hsv` with these gains, as OpenCV computes it (image addon).
 */
export function applyHsvGains(image: RgbImage, rh: number, rs: number, rv: number): void {
  applyHsvGainsRgb(image, rh, rs, rv);
}
