/**
 * Training hyperparameters under the seed's YAML keys (hyp.scratch-high.yaml): optimizer and schedule, loss, and
 * augmentation. `loadHyp` reads a user's file unchanged: unknown keys are warned about, missing keys take the seed's
 * defaults and are reported, values are validated with the file and key named.
 */

import { parse } from "yaml";
import { type AugmentHyp, HYP_SCRATCH_HIGH, resolveHyp } from "../data/augment/hyp.js";
import { InputFileError, MAX_YAML_BYTES, readBoundedText } from "../util/bounded-read.js";
import { ConfigError } from "../util/errors.js";
import { type AttributeHyp, attributeHypProblems, DEFAULT_ATTRIBUTE_HYP } from "./attribute-hyp.js";
import { type DetectionLossHyp, SEED_LOSS_HYP } from "./loss/hyp.js";
import type { ScheduleHyp } from "./schedule.js";
import { SEED_SLA_HYP, type SlaHyp, slaHypProblems } from "./sla/hyp.js";

export interface OptimizerHyp extends ScheduleHyp {
  /** SGD weight decay (scaled to the effective batch). */
  weight_decay: number;
}

/** When augmentation changes over a run (sladet's key, after Ultralytics YOLOv8's `close_mosaic`). */
export interface AugmentScheduleHyp {
  /**
   * Train the last this-many epochs without mosaic (and so without mixup): letterboxed single images, the rest of the
   * augmentation as before, so the last epochs see whole fields of view at the scale validation uses. @default 0
   * (YOLOv5 and the seed: mosaic in every epoch; YOLOv8 uses 10)
   */
  close_mosaic: number;
}

/** The seed's behaviour: mosaic in every epoch. */
export const SEED_AUGMENT_SCHEDULE_HYP: Readonly<AugmentScheduleHyp> = Object.freeze({ close_mosaic: 0 });

/** The first epoch (0-based) of `epochs` trained without mosaic, or null when `closeMosaic` is 0 (mosaic throughout). */
export function firstClosedEpoch(epochs: number, closeMosaic: number): number | null {
  return closeMosaic > 0 ? Math.max(0, epochs - closeMosaic) : null;
}

/** Whether `epoch` (0-based) of `epochs` trains without mosaic: it is one of the last `closeMosaic`. */
export function mosaicClosed(epoch: number, epochs: number, closeMosaic: number): boolean {
  const first = firstClosedEpoch(epochs, closeMosaic);
  return first !== null && epoch >= first;
}

/** Everything a hyp YAML holds. */
export type Hyp = OptimizerHyp & DetectionLossHyp & AugmentHyp & AugmentScheduleHyp & SlaHyp & AttributeHyp;

/**
 * The seed's phase-1/phase-2 hyperparameters: YOLOv5's hyp.scratch-high.yaml with fl_gamma 1.5, and the constants
 * of its phase-2 losses; and sladet's attribute-training keys (src/train/attribute-hyp.ts: the seed had no such
 * knobs; SEED_ATTRIBUTE_HYP is its behaviour).
 */
export const DEFAULT_HYP: Readonly<Hyp> = Object.freeze({
  lr0: 0.01,
  lrf: 0.1,
  momentum: 0.937,
  weight_decay: 0.0005,
  warmup_epochs: 3.0,
  warmup_momentum: 0.8,
  warmup_bias_lr: 0.1,
  ...SEED_LOSS_HYP,
  ...HYP_SCRATCH_HIGH,
  ...SEED_AUGMENT_SCHEDULE_HYP,
  ...SEED_SLA_HYP,
  ...DEFAULT_ATTRIBUTE_HYP,
});

/** Keys YOLOv5's hyp files carry that have no effect on box training (accepted, reported). */
export const INERT_HYP_KEYS: Readonly<Record<string, string>> = {
  iou_t: "unused by YOLOv5's training too",
  copy_paste: "applies to segmentation masks only",
  anchors: "anchors per level come from the model YAML",
};

export interface LoadedHyp {
  hyp: Hyp;
  /** Keys taken from the defaults because the file lacks them. */
  defaulted: string[];
  /** Messages about unknown and inert keys. */
  warnings: string[];
}

/** Validates a parsed hyp object (e.g. from YAML); `source` names it in errors. */
export function resolveFullHyp(raw: unknown, source: string): LoadedHyp {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(`${source}: expected a mapping of hyperparameters`);
  const values = raw as Record<string, unknown>;
  const hyp: Record<string, number> = { ...DEFAULT_HYP };
  const defaulted: string[] = [];
  const warnings: string[] = [];
  for (const key of Object.keys(DEFAULT_HYP)) {
    const v = values[key];
    if (v === undefined) {
      // sladet's own keys (phase 2, attributes, close_mosaic): not in the seed's or YOLOv5's files, so no line each
      const sladetOwn = key in SEED_SLA_HYP || key in DEFAULT_ATTRIBUTE_HYP || key in SEED_AUGMENT_SCHEDULE_HYP;
      if (!sladetOwn) defaulted.push(key);
      continue;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ConfigError(`${source}: ${key}: expected a number, found ${JSON.stringify(v)}`);
    }
    hyp[key] = v;
  }
  for (const key of Object.keys(values)) {
    if (key in DEFAULT_HYP) continue;
    const inert = INERT_HYP_KEYS[key];
    warnings.push(
      inert ? `${source}: ${key} has no effect (${inert})` : `${source}: unknown hyperparameter ${key} ignored`,
    );
  }
  const checks: Array<[string, boolean]> = [
    ["lr0 > 0", hyp["lr0"]! > 0],
    ["0 < lrf <= 1", hyp["lrf"]! > 0 && hyp["lrf"]! <= 1],
    ["0 <= momentum < 1", hyp["momentum"]! >= 0 && hyp["momentum"]! < 1],
    ["weight_decay >= 0", hyp["weight_decay"]! >= 0],
    ["warmup_epochs >= 0", hyp["warmup_epochs"]! >= 0],
    ["anchor_t > 1", hyp["anchor_t"]! > 1],
    ["fl_gamma >= 0", hyp["fl_gamma"]! >= 0],
    ["0 <= label_smoothing < 1", hyp["label_smoothing"]! >= 0 && hyp["label_smoothing"]! < 1],
    ["close_mosaic a whole number of epochs >= 0", Number.isInteger(hyp["close_mosaic"]) && hyp["close_mosaic"]! >= 0],
  ];
  for (const [rule, ok] of checks) if (!ok) throw new ConfigError(`${source}: expected ${rule}`);
  const sla = [...slaHypProblems(hyp as unknown as SlaHyp), ...attributeHypProblems(hyp as unknown as AttributeHyp)][0];
  if (sla) throw new ConfigError(`${source}: expected ${sla}`);
  try {
    resolveHyp(hyp as Partial<AugmentHyp>);
  } catch (err) {
    throw new ConfigError(`${source}: ${(err as Error).message}`);
  }
  return { hyp: hyp as unknown as Hyp, defaulted, warnings };
}

/** Reads a hyp YAML file (the seed's hyp.scratch-high.yaml etc.). */
export function loadHyp(path: string): LoadedHyp {
  let text: string;
  try {
    text = readBoundedText(path, MAX_YAML_BYTES);
  } catch (err) {
    throw new ConfigError(
      `${path}: cannot read the hyp file (${err instanceof InputFileError ? err.reason : ((err as NodeJS.ErrnoException).code ?? (err as Error).message)})`,
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML: ${(err as Error).message}`);
  }
  return resolveFullHyp(raw, path);
}
