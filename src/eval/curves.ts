/**
 * `curves.json` of a validation run: the precision-recall curve at IoU 0.5 and precision, recall and F1 against
 * confidence, per class, resampled from the validation's {@link ApResult} curves to a few points so that the file
 * (and the report's charts) stay small. Pure TypeScript, no torch.
 */
import type { ApResult } from "./ap.js";
import type { DetectionSummary } from "./detection-metrics.js";

/** Bumped on any incompatible change. */
export const CURVES_JSON_VERSION = 1;
/** Points of each curve in curves.json (0, 0.01, …, 1). */
export const CURVES_JSON_POINTS = 101;

export interface ClassCurves {
  class: number;
  name: string;
  /** AP at IoU 0.5. */
  ap50: number;
  /** Precision at each `CurveSet.x` recall (the interpolated envelope, IoU 0.5). */
  pr: number[];
  /** Precision, recall and F1 at each `CurveSet.x` confidence. */
  precision: number[];
  recall: number[];
  f1: number[];
}

/** The curves of one evaluation (whole images, or labelled regions only). */
export interface CurveSet {
  /** The grid, 0..1: recall for `pr`, confidence for the others. */
  x: number[];
  /** The confidence at which the validation read P and R (maximum of the smoothed mean F1). */
  confidence: number;
  classes: ClassCurves[];
}

export interface CurvesJson {
  version: typeof CURVES_JSON_VERSION;
  names: string[];
  all: CurveSet | null;
  /** On sparse data, the curves of the labelled regions; null on dense data. */
  labelledRegions: CurveSet | null;
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Values of `curve` (sampled on `px`) at `points` evenly spaced positions of 0..1 (nearest sample). */
function resample(curve: readonly number[], px: readonly number[], points: number): number[] {
  const last = px.length - 1;
  return Array.from({ length: points }, (_, i) => {
    const x = i / (points - 1);
    const k = Math.min(last, Math.max(0, Math.round(x * last)));
    return round4(curve[k] ?? 0);
  });
}

/** The curves of a detection summary, resampled to `points`; null when nothing was labelled. */
export function curveSet(summary: DetectionSummary, points = CURVES_JSON_POINTS): CurveSet | null {
  const d: ApResult | null = summary.details;
  if (!d) return null;
  const { px } = d.curves;
  return {
    x: Array.from({ length: points }, (_, i) => round4(i / (points - 1))),
    confidence: round4(d.confidence),
    classes: d.classes.map((c, k) => ({
      class: c,
      name: summary.perClass[k]?.name ?? String(c),
      ap50: d.ap[k]?.[0] ?? 0,
      pr: resample(d.curves.prAt50[k]!, px, points),
      precision: resample(d.curves.p[k]!, px, points),
      recall: resample(d.curves.r[k]!, px, points),
      f1: resample(d.curves.f1[k]!, px, points),
    })),
  };
}

/** curves.json of a validation (whole images and, on sparse data, labelled regions). */
export function curvesJson(
  names: readonly string[],
  all: DetectionSummary,
  region: DetectionSummary | null,
): CurvesJson {
  return {
    version: CURVES_JSON_VERSION,
    names: [...names],
    all: curveSet(all),
    labelledRegions: region ? curveSet(region) : null,
  };
}
