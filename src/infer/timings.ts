/**
 * Per-stage timings of a detect run (decode, letterbox, forward + NMS, attributes, drawing, writing): a small struct a
 * benchmark can read, and the table `sladet detect` prints. Times are busy time per stage: decoding the next batch
 * overlaps the current batch's inference, so the stages can sum to more than the wall time.
 */

/** The stages of a detect run, in pipeline order. */
export const DETECT_STAGES = ["decode", "letterbox", "forward", "attributes", "drawing", "writing"] as const;
export type DetectStage = (typeof DETECT_STAGES)[number];

/** How each stage is called in tables. */
export const STAGE_LABELS: Readonly<Record<DetectStage, string>> = {
  decode: "decode",
  letterbox: "letterbox",
  forward: "forward+NMS",
  attributes: "attributes",
  drawing: "drawing",
  writing: "writing",
};

/** Milliseconds spent in each stage (totals over a run). */
export type StageTimings = Record<DetectStage, number>;

export function emptyTimings(): StageTimings {
  return { decode: 0, letterbox: 0, forward: 0, attributes: 0, drawing: 0, writing: 0 };
}

/**
 * What a predictor may report about its last `predict` call (optional, beyond the Predictor contract): the libtorch
 * backend splits its time into the detector with NMS and the attribute head. A predictor without it has its whole
 * `predict` time counted as forward+NMS.
 */
export interface PredictTimings {
  /** Milliseconds of the detector, decoding and NMS (including the input's copy in and the boxes' copy out). */
  forwardMs: number;
  /** The part of forwardMs spent in NMS (from the decoded output to the boxes as typed arrays), when measured. */
  nmsMs?: number;
  /** Milliseconds of the attribute head (0 when it did not run). */
  attributesMs: number;
}

/** A predictor that reports {@link PredictTimings}. */
export interface StageTimedPredictor {
  readonly lastTimings: PredictTimings | null;
}

export function hasStageTimings(p: object): p is StageTimedPredictor {
  return "lastTimings" in p;
}

/** Runs `fn`, adding its duration to `timings[stage]`. */
export async function timed<T>(timings: StageTimings, stage: DetectStage, fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[stage] += performance.now() - t0;
  }
}

/** Synchronous {@link timed}. */
export function timedSync<T>(timings: StageTimings, stage: DetectStage, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    timings[stage] += performance.now() - t0;
  }
}

/** Rows "stage  ms/image  share" for `images` images (the share is of the stages' sum). */
export function formatStageTable(timings: StageTimings, images: number): string {
  const total = DETECT_STAGES.reduce((s, k) => s + timings[k], 0);
  const n = Math.max(images, 1);
  const width = Math.max(...DETECT_STAGES.map((k) => STAGE_LABELS[k].length), "stage".length) + 2;
  const lines = [`${"stage".padEnd(width)}${"ms/image".padStart(10)}${"share".padStart(8)}`];
  for (const k of DETECT_STAGES) {
    const share = total > 0 ? (100 * timings[k]) / total : 0;
    lines.push(
      `${STAGE_LABELS[k].padEnd(width)}${(timings[k] / n).toFixed(1).padStart(10)}${`${share.toFixed(0)}%`.padStart(8)}`,
    );
  }
  lines.push(`${"all stages".padEnd(width)}${(total / n).toFixed(1).padStart(10)}${"100%".padStart(8)}`);
  return lines.join("\n");
}
