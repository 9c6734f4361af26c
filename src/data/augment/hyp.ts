/**
 * Augmentation hyperparameters with the names and meanings of YOLOv5's hyp files (the seed trains with
 * `hyp.scratch-high.yaml`), and the fixed constants of YOLOv5's augmentation code as named defaults.
 */

/** Augmentation hyperparameters (keys as in YOLOv5's hyp YAML). Each is a probability, a gain or a range. */
export interface AugmentHyp {
  /** Hue gain: hue is multiplied by 1 + U(−1, 1)·hsv_h (fraction of the hue circle). @default 0.015 */
  hsv_h: number;
  /** Saturation gain: saturation × (1 + U(−1, 1)·hsv_s). @default 0.7 */
  hsv_s: number;
  /** Value (brightness) gain: value × (1 + U(−1, 1)·hsv_v). @default 0.4 */
  hsv_v: number;
  /** Rotation range in degrees: U(−degrees, degrees). @default 0 */
  degrees: number;
  /** Translation range as a fraction of the output size: centre moves by U(−translate, translate). @default 0.1 */
  translate: number;
  /** Scale range: U(1 − scale, 1 + scale). @default 0.9 */
  scale: number;
  /** Shear range in degrees, each axis U(−shear, shear). @default 0 */
  shear: number;
  /** Perspective range: the projective row gets U(−perspective, perspective); 0..0.001 is typical. @default 0 */
  perspective: number;
  /** Probability of a vertical flip. @default 0 */
  flipud: number;
  /** Probability of a horizontal flip. @default 0.5 */
  fliplr: number;
  /** Probability of a 4-image mosaic (training only). @default 1 */
  mosaic: number;
  /** Probability of mixing a mosaic with another mosaic (needs mosaic). @default 0.1 */
  mixup: number;
}

/** YOLOv5's `hyp.scratch-high.yaml` augmentation values: the seed's phase-1 and phase-2 setting. */
export const HYP_SCRATCH_HIGH: Readonly<AugmentHyp> = Object.freeze({
  hsv_h: 0.015,
  hsv_s: 0.7,
  hsv_v: 0.4,
  degrees: 0,
  translate: 0.1,
  scale: 0.9,
  shear: 0,
  perspective: 0,
  flipud: 0,
  fliplr: 0.5,
  mosaic: 1,
  mixup: 0.1,
});

/** Every augmentation off (the geometry of the stored image is kept apart from letterboxing). */
export const HYP_NO_AUGMENTATION: Readonly<AugmentHyp> = Object.freeze({
  hsv_h: 0,
  hsv_s: 0,
  hsv_v: 0,
  degrees: 0,
  translate: 0,
  scale: 0,
  shear: 0,
  perspective: 0,
  flipud: 0,
  fliplr: 0,
  mosaic: 0,
  mixup: 0,
});

/** Grey of letterbox borders, mosaic canvases and warp borders (YOLOv5's 114). */
export const PAD_VALUE = 114;

/** Parameters of the beta distribution of mixup's blending ratio (YOLOv5: beta(32, 32), mean 0.5). */
export const MIXUP_BETA = 32;

/** Box filter after a geometric transform (YOLOv5's `box_candidates` defaults). */
export interface BoxCandidateOptions {
  /** Minimum width and height in pixels, exclusive. @default 2 */
  whThr?: number;
  /** Maximum aspect ratio max(w/h, h/w), exclusive. @default 100 */
  arThr?: number;
  /** Minimum area after / area before (the latter times the transform's scale), exclusive. @default 0.1 */
  areaThr?: number;
}

/** The {@link BoxCandidateOptions} defaults. */
export const BOX_CANDIDATES = Object.freeze({ whThr: 2, arThr: 100, areaThr: 0.1 });

/** Reads a hyp object (e.g. a parsed hyp YAML) into {@link AugmentHyp}, defaults from `base`; throws on bad values. */
export function resolveHyp(
  partial: Partial<Record<keyof AugmentHyp, unknown>> = {},
  base = HYP_SCRATCH_HIGH,
): AugmentHyp {
  const out = { ...base };
  for (const key of Object.keys(base) as Array<keyof AugmentHyp>) {
    const v = partial[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new Error(`hyperparameter ${key}: expected a number ≥ 0, found ${JSON.stringify(v)}`);
    }
    out[key] = v;
  }
  for (const p of ["flipud", "fliplr", "mosaic", "mixup"] as const) {
    if (out[p] > 1) throw new Error(`hyperparameter ${p} is a probability: expected ≤ 1, found ${out[p]}`);
  }
  return out;
}
