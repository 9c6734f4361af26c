/**
 * A pseudo-label threshold calibrated on the labelled regions. Inside a region the labels are complete, so every
 * prediction there is known to be right or wrong; regions are a random part of each image, so the precision a
 * confidence threshold reaches there estimates the precision of the pseudo-labels it selects outside. The threshold
 * is the lowest confidence at which the recent in-region predictions reach the target precision (pl_precision),
 * backed by at least pl_support correct ones, never above pl_conf (the seed's fixed threshold) nor below pl_conf_min.
 * It is recalibrated after every batch over a sliding window of the latest predictions ({@link CALIBRATION_WINDOW}).
 *
 * When the target cannot be met — too few correct predictions seen (no support) or none reaching the precision — the
 * calibrator admits **no** pseudo-label (issue 26: a permissive fallback admitted 63 % and then 21 % precise
 * pseudo-labels and collapsed the demo's phase 2). pl_unsupported 1 restores the earlier fallback to pl_conf while
 * the support is missing. The seed's 0.95 never fired on models trained on sparse labels (issue 11's evidence): their
 * confidences on correct cells sit lower, while their ranking is already good.
 */
import { pushAll } from "../../util/arrays.js";

/**
 * In-region predictions remembered (the most recent): about an epoch of the synthetic benchmark. 4000 (~14 epochs there)
 * kept a collapsed epoch's predictions long after the model recovered, and the threshold stuck at pl_conf.
 */
export const CALIBRATION_WINDOW = 500;
/** Correct in-region predictions needed above a threshold before it is trusted (pl_support's default). */
export const CALIBRATION_MIN_CORRECT = 20;

/** What the threshold is while the calibration lacks support (fewer than `support` correct predictions seen). */
export type UnsupportedThreshold = "none" | "ceiling";

/** How a {@link ThresholdCalibrator} decides. */
export interface CalibrationRule {
  /** Target precision in (0, 1]; 0 = off (always `ceiling`). */
  precision: number;
  /** The highest threshold (pl_conf). */
  ceiling: number;
  /** The lowest (pl_conf_min). */
  floor: number;
  /** The precision counted is its Wilson lower bound at this z (pl_precision_z; 0 = the point estimate). */
  z: number;
  /** Correct predictions at or above a threshold needed to trust it (pl_support). */
  support: number;
  /** Without that support: no pseudo-labels ("none", pl_unsupported 0) or `ceiling` ("ceiling", 1: before issue 26). */
  unsupported: UnsupportedThreshold;
}

/** A prediction inside a labelled region: its confidence and whether it matched a label (IoU ≥ 0.5, same class). */
export interface CalibrationSample {
  conf: number;
  correct: boolean;
}

/** A calibrator's state in a checkpoint (JSON): the remembered samples and the threshold they gave. */
export interface CalibratorState {
  samples: CalibrationSample[];
  threshold: number;
}

export class ThresholdCalibrator {
  readonly #samples: CalibrationSample[] = [];
  #threshold: number;
  readonly rule: CalibrationRule;

  /** @param rule how to calibrate; omitted fields: z 0, support {@link CALIBRATION_MIN_CORRECT}, unsupported "none" */
  constructor(rule: Pick<CalibrationRule, "precision" | "ceiling" | "floor"> & Partial<CalibrationRule>) {
    this.rule = { z: 0, support: CALIBRATION_MIN_CORRECT, unsupported: "none", ...rule };
    this.#threshold = this.rule.precision > 0 ? unsupportedThreshold(this.rule) : this.rule.ceiling;
  }

  get precision(): number {
    return this.rule.precision;
  }

  get threshold(): number {
    return this.#threshold;
  }

  /** The remembered samples and the threshold, for a checkpoint (a resumed run continues with them). */
  get state(): CalibratorState {
    return { samples: this.#samples.map((s) => ({ ...s })), threshold: this.#threshold };
  }

  /** Puts a checkpoint's state back (the samples are checked: a damaged file must not inject garbage). */
  restore(state: CalibratorState): void {
    const ok =
      Array.isArray(state?.samples) &&
      state.samples.length <= CALIBRATION_WINDOW &&
      state.samples.every((s) => Number.isFinite(s?.conf) && typeof s.correct === "boolean") &&
      Number.isFinite(state.threshold);
    if (!ok) throw new Error("the saved pseudo-label calibration is damaged");
    this.#samples.splice(0, this.#samples.length, ...state.samples.map((s) => ({ conf: s.conf, correct: s.correct })));
    this.#threshold = state.threshold;
  }

  /** Adds a batch's in-region predictions and updates the threshold. */
  add(samples: readonly CalibrationSample[]): void {
    if (this.rule.precision <= 0) return;
    pushAll(this.#samples, samples);
    if (this.#samples.length > CALIBRATION_WINDOW) this.#samples.splice(0, this.#samples.length - CALIBRATION_WINDOW);
    this.#threshold = calibrate(this.#samples, this.rule);
  }
}

/** A threshold no confidence passes (selection is conf > threshold): no pseudo-labels. */
export const NO_PSEUDO_LABELS = 1;

/**
 * The Wilson score interval's lower bound of a proportion `correct / n` at normal quantile `z` (Wilson 1927): a
 * precision estimate that is conservative in proportion to how few predictions back it. z = 0: the proportion itself.
 */
export function wilsonLowerBound(correct: number, n: number, z: number): number {
  if (n <= 0) return 0;
  const p = correct / n;
  if (z <= 0) return p;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return (centre - spread) / (1 + z2 / n);
}

/** The threshold while the calibration lacks support: none admitted, or the ceiling (pl_unsupported 1). */
function unsupportedThreshold(rule: CalibrationRule): number {
  return rule.unsupported === "ceiling" ? rule.ceiling : NO_PSEUDO_LABELS;
}

/**
 * The lowest confidence c (one of the samples') with precision(conf ≥ c) ≥ `rule.precision` (its Wilson lower bound at
 * `rule.z`, {@link wilsonLowerBound}) and at least `rule.support` correct samples at or above it, clamped to
 * [floor, ceiling]. With fewer correct samples than that in all: the rule's unsupported threshold (by default
 * {@link NO_PSEUDO_LABELS}). With enough but no confidence reaching the precision: {@link NO_PSEUDO_LABELS} (the model
 * is unreliable now; on the synthetic benchmark falling back to 0.95 there selected hundreds of pseudo-labels at ~50%
 * precision in the epochs where it went overconfident).
 */
export function calibrate(samples: readonly CalibrationSample[], rule: CalibrationRule): number {
  const sorted = [...samples].sort((a, b) => b.conf - a.conf);
  let correct = 0;
  let best = Number.POSITIVE_INFINITY;
  sorted.forEach((s, i) => {
    if (s.correct) correct++;
    const nextIsTied = i + 1 < sorted.length && sorted[i + 1]!.conf === s.conf;
    if (nextIsTied) return;
    if (correct >= rule.support && wilsonLowerBound(correct, i + 1, rule.z) >= rule.precision)
      best = Math.min(best, s.conf);
  });
  if (correct < rule.support) return unsupportedThreshold(rule);
  if (best === Number.POSITIVE_INFINITY) return NO_PSEUDO_LABELS;
  // selection is conf > threshold: just below the chosen confidence keeps it
  return Math.max(rule.floor, Math.min(rule.ceiling, best - TIE_MARGIN));
}

/** How far below the chosen sample's confidence the threshold sits. */
const TIE_MARGIN = 1e-6;
