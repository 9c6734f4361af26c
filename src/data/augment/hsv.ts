/**
 * HSV colour jitter (YOLOv5's `augment_hsv`): hue, saturation and value each multiplied by a random gain in
 * 1 ± gain, applied through lookup tables on OpenCV's 8-bit HSV (hue 0..179, saturation and value 0..255).
 * Colour only: the mask and the boxes are unchanged.
 */
import type { Rng } from "../../util/random.js";
import type { RgbImage } from "./types.js";

/** Hue levels of OpenCV's 8-bit HSV (degrees / 2). */
const HUE_LEVELS = 180;

/** The three gains of {@link augmentHsv}. */
export interface HsvGains {
  /** Hue gain (hyp `hsv_h`). */
  h: number;
  /** Saturation gain (hyp `hsv_s`). */
  s: number;
  /** Value gain (hyp `hsv_v`). */
  v: number;
}

/** Jitters the colours of `image` in place with gains drawn from `rng`; nothing happens when all gains are 0. */
export function augmentHsv(image: RgbImage, gains: HsvGains, rng: Rng): void {
  if (gains.h === 0 && gains.s === 0 && gains.v === 0) return;
  const rh = rng.uniform(-1, 1) * gains.h + 1;
  const rs = rng.uniform(-1, 1) * gains.s + 1;
  const rv = rng.uniform(-1, 1) * gains.v + 1;
  applyHsvGains(image, rh, rs, rv);
}

/** Multiplies hue (mod 180), saturation and value (clipped to 255) of every pixel by the given factors, in place. */
export function applyHsvGains(image: RgbImage, rh: number, rs: number, rv: number): void {
  const lutHue = new Uint8Array(256);
  const lutSat = new Uint8Array(256);
  const lutVal = new Uint8Array(256);
  for (let x = 0; x < 256; x++) {
    lutHue[x] = Math.floor((((x * rh) % HUE_LEVELS) + HUE_LEVELS) % HUE_LEVELS);
    lutSat[x] = Math.min(255, Math.max(0, Math.floor(x * rs)));
    lutVal[x] = Math.min(255, Math.max(0, Math.floor(x * rv)));
  }
  const d = image.data;
  for (let p = 0; p < d.length; p += 3) {
    const r = d[p]!;
    const g = d[p + 1]!;
    const b = d[p + 2]!;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const delta = max - min;
    // RGB → 8-bit HSV
    let hue = 0;
    if (delta > 0) {
      let deg: number;
      if (max === r) deg = (60 * (g - b)) / delta;
      else if (max === g) deg = 120 + (60 * (b - r)) / delta;
      else deg = 240 + (60 * (r - g)) / delta;
      if (deg < 0) deg += 360;
      hue = Math.round(deg / 2) % HUE_LEVELS;
    }
    const sat = max === 0 ? 0 : Math.round((255 * delta) / max);
    const h2 = lutHue[hue]!;
    const s2 = lutSat[sat]! / 255;
    const v2 = lutVal[max]!;
    // 8-bit HSV → RGB (sector of the hue circle, chroma c, second-largest component x)
    const c = v2 * s2;
    const hp = (h2 * 2) / 60;
    const sector = Math.floor(hp);
    const x = c * (1 - Math.abs((hp % 2) - 1));
    const m = v2 - c;
    const cm = Math.round(c + m);
    const xm = Math.round(x + m);
    const mm = Math.round(m);
    switch (sector) {
      case 0:
        d[p] = cm;
        d[p + 1] = xm;
        d[p + 2] = mm;
        break;
      case 1:
        d[p] = xm;
        d[p + 1] = cm;
        d[p + 2] = mm;
        break;
      case 2:
        d[p] = mm;
        d[p + 1] = cm;
        d[p + 2] = xm;
        break;
      case 3:
        d[p] = mm;
        d[p + 1] = xm;
        d[p + 2] = cm;
        break;
      case 4:
        d[p] = xm;
        d[p + 1] = mm;
        d[p + 2] = cm;
        break;
      default:
        d[p] = cm;
        d[p + 1] = mm;
        d[p + 2] = xm;
    }
  }
}
