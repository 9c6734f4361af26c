/**
 * Detection metrics of a validation run: accumulates per-image matches, then computes the YOLOv5 numbers (per-class
 * P, R, AP50, AP50-95 at the max-mean-F1 confidence; mean P, R, mAP50, mAP50-95; fitness) and prints the table
 * YOLOv5 users know.
 */
import { formatTable } from "../util/table.js";
import { type ApResult, apPerClass } from "./ap.js";
import { ConfusionMatrix } from "./confusion.js";
import { type DetectionRows, IOU_THRESHOLDS, type LabelRows, matchDetections } from "./match.js";

/** Fitness weights of (P, R, mAP50, mAP50-95), YOLOv5's: 0.1·mAP50 + 0.9·mAP50-95. */
export const FITNESS_WEIGHTS = [0, 0, 0.1, 0.9] as const;

export interface ClassMetrics {
  cls: number;
  name: string;
  /** Images with at least one instance of the class. */
  images: number;
  instances: number;
  p: number;
  r: number;
  ap50: number;
  ap: number;
}

export interface DetectionSummary {
  images: number;
  instances: number;
  mp: number;
  mr: number;
  map50: number;
  map: number;
  fitness: number;
  perClass: ClassMetrics[];
  /** The underlying AP computation (curves for plots), null when nothing was labelled. */
  details: ApResult | null;
  confusion: ConfusionMatrix;
}

export class DetectionMetrics {
  readonly #tp: Uint8Array[] = [];
  readonly #conf: number[] = [];
  readonly #predCls: number[] = [];
  readonly #targetCls: number[] = [];
  readonly #imagesPerClass = new Map<number, number>();
  #images = 0;
  readonly confusion: ConfusionMatrix;

  constructor(
    readonly names: readonly string[],
    readonly thresholds: readonly number[] = IOU_THRESHOLDS,
  ) {
    this.confusion = new ConfusionMatrix(names.length);
  }

  /** Adds one image: detections [x1,y1,x2,y2,conf,cls] rows, labels [cls,x1,y1,x2,y2] rows (same pixel frame). */
  add(detections: DetectionRows, labels: LabelRows): void {
    this.#images++;
    const present = new Set<number>();
    for (let l = 0; l < labels.length / 5; l++) {
      this.#targetCls.push(labels[l * 5]!);
      present.add(labels[l * 5]!);
    }
    for (const c of present) this.#imagesPerClass.set(c, (this.#imagesPerClass.get(c) ?? 0) + 1);
    const nd = detections.length / 6;
    if (nd > 0) {
      this.#tp.push(matchDetections(detections, labels, this.thresholds));
      for (let d = 0; d < nd; d++) {
        this.#conf.push(detections[d * 6 + 4]!);
        this.#predCls.push(detections[d * 6 + 5]!);
      }
    }
    this.confusion.add(detections, labels);
  }

  summary(): DetectionSummary {
    const t = this.thresholds.length;
    const tp = new Uint8Array(this.#conf.length * t);
    let at = 0;
    for (const chunk of this.#tp) {
      tp.set(chunk, at);
      at += chunk.length;
    }
    const base = { images: this.#images, instances: this.#targetCls.length, confusion: this.confusion };
    if (this.#targetCls.length === 0) {
      return { ...base, mp: 0, mr: 0, map50: 0, map: 0, fitness: 0, perClass: [], details: null };
    }
    const res = apPerClass(tp, this.#conf, this.#predCls, this.#targetCls, t);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    const ap50 = res.ap.map((row) => row[0]!);
    const apAll = res.ap.map((row) => mean(row));
    const perClass = res.classes.map((c, k) => ({
      cls: c,
      name: this.names[c] ?? String(c),
      images: this.#imagesPerClass.get(c) ?? 0,
      instances: res.instances[k]!,
      p: res.p[k]!,
      r: res.r[k]!,
      ap50: ap50[k]!,
      ap: apAll[k]!,
    }));
    const [mp, mr, map50, map] = [mean(res.p), mean(res.r), mean(ap50), mean(apAll)];
    const fitness = [mp, mr, map50, map].reduce((s, v, i) => s + v * FITNESS_WEIGHTS[i]!, 0);
    return { ...base, mp, mr, map50, map, fitness, perClass, details: res };
  }
}

/** The validation table: an "all" row, then one row per class (YOLOv5's columns). */
export function formatDetectionTable(summary: DetectionSummary, options: { perClass?: boolean } = {}): string {
  const f = (x: number) => x.toFixed(3);
  const rows = [
    ["Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95"],
    [
      "all",
      String(summary.images),
      String(summary.instances),
      f(summary.mp),
      f(summary.mr),
      f(summary.map50),
      f(summary.map),
    ],
  ];
  if (options.perClass ?? true) {
    for (const c of summary.perClass) {
      rows.push([c.name, String(c.images), String(c.instances), f(c.p), f(c.r), f(c.ap50), f(c.ap)]);
    }
  }
  return formatTable(rows);
}
