/**
 * COCO-style box evaluation, following the COCO definition (pycocotools' COCOeval for iouType "bbox"):
 * IoU thresholds 0.50:0.05:0.95, 101 recall points, maxDets 1/10/100, area ranges all / small (< 32²) /
 * medium (32²–96²) / large (> 96²) by box area in pixels. Per image and category, detections (best score first,
 * at most maxDet) are matched greedily to the best-IoU unmatched ground truth (non-ignored first); ground truth
 * outside the area range is ignored, and so are unmatched detections outside it. Precision is the interpolated
 * envelope sampled at the recall points; AP averages every (threshold, recall point, category) with ground truth.
 *
 * Differences from YOLOv5's mAP: no 0.995 artefact at recall 1 (the envelope is sampled, not integrated with an
 * appended (1, 0) point), at most 100 detections per image, and per-area numbers. Without crowd annotations.
 */

import { pushAll } from "../util/arrays.js";
import { formatTable } from "../util/table.js";
import { iouAt } from "./box.js";
import { IOU_THRESHOLDS } from "./match.js";

export const COCO_RECALL_POINTS: readonly number[] = Array.from({ length: 101 }, (_, i) => i / 100);
export const COCO_MAX_DETS = [1, 10, 100] as const;
export const COCO_AREA_RANGES: ReadonlyArray<{ name: string; lo: number; hi: number }> = [
  { name: "all", lo: 0, hi: 1e10 },
  { name: "small", lo: 0, hi: 32 ** 2 },
  { name: "medium", lo: 32 ** 2, hi: 96 ** 2 },
  { name: "large", lo: 96 ** 2, hi: 1e10 },
];

/** One image: detections [x1,y1,x2,y2,conf,cls] rows and labels [cls,x1,y1,x2,y2] rows, in pixels. */
export interface CocoImage {
  detections: ArrayLike<number>;
  labels: ArrayLike<number>;
}

interface Box {
  x: number[];
  area: number;
  score: number;
}

/** The 12 standard COCO numbers, −1 where undefined (no ground truth in that range). */
export interface CocoStats {
  ap: number;
  ap50: number;
  ap75: number;
  apSmall: number;
  apMedium: number;
  apLarge: number;
  ar1: number;
  ar10: number;
  ar100: number;
  arSmall: number;
  arMedium: number;
  arLarge: number;
}

const area = (x: number[]) => Math.max(0, x[2]! - x[0]!) * Math.max(0, x[3]! - x[1]!);

function boxesOf(
  rows: ArrayLike<number>,
  stride: number,
  cls: number,
  classCol: number,
  boxCol: number,
  scoreCol = -1,
): Box[] {
  const out: Box[] = [];
  for (let i = 0; i + stride <= rows.length; i += stride) {
    if (rows[i + classCol] !== cls) continue;
    const x = [rows[i + boxCol]!, rows[i + boxCol + 1]!, rows[i + boxCol + 2]!, rows[i + boxCol + 3]!];
    out.push({ x, area: area(x), score: scoreCol >= 0 ? rows[i + scoreCol]! : 0 });
  }
  return out;
}

interface ImageEval {
  scores: number[];
  /** [threshold][detection]: matched (1) or not, and ignored flags. */
  matched: Uint8Array[];
  ignored: Uint8Array[];
  /** Ground truth that counts (not ignored). */
  npig: number;
}

function evaluateImage(gts: Box[], dts: Box[], lo: number, hi: number, maxDet: number): ImageEval {
  const gtIgnore = gts.map((g) => (g.area < lo || g.area > hi ? 1 : 0));
  const gOrder = gts.map((_, i) => i).sort((a, b) => gtIgnore[a]! - gtIgnore[b]!);
  const g = gOrder.map((i) => gts[i]!);
  const gIg = gOrder.map((i) => gtIgnore[i]!);
  const d = dts
    .map((b, i) => ({ b, i }))
    .sort((a, b) => b.b.score - a.b.score || a.i - b.i)
    .slice(0, maxDet)
    .map((e) => e.b);
  const matched: Uint8Array[] = [];
  const ignored: Uint8Array[] = [];
  for (const t of IOU_THRESHOLDS) {
    const gtm = new Uint8Array(g.length);
    const dtm = new Uint8Array(d.length);
    const dtIg = new Uint8Array(d.length);
    d.forEach((det, di) => {
      let best = Math.min(t, 1 - 1e-10);
      let m = -1;
      for (let gi = 0; gi < g.length; gi++) {
        if (gtm[gi]) continue;
        if (m > -1 && gIg[m] === 0 && gIg[gi] === 1) break;
        const iou = iouAt(det.x, 0, g[gi]!.x, 0);
        if (iou < best) continue;
        best = iou;
        m = gi;
      }
      if (m === -1) {
        if (det.area < lo || det.area > hi) dtIg[di] = 1;
        return;
      }
      dtIg[di] = gIg[m]!;
      dtm[di] = 1;
      gtm[m] = 1;
    });
    matched.push(dtm);
    ignored.push(dtIg);
  }
  return { scores: d.map((x) => x.score), matched, ignored, npig: gIg.filter((v) => v === 0).length };
}

/** Precision at the recall points and final recall for one (category, area, maxDet), per threshold; null = no GT. */
function accumulate(evals: ImageEval[]): { precision: number[][]; recall: number[] } | null {
  const npig = evals.reduce((s, e) => s + e.npig, 0);
  if (npig === 0) return null;
  const rows: Array<{ s: number; e: ImageEval; k: number }> = [];
  for (const e of evals) for (const [k, s] of e.scores.entries()) rows.push({ s, e, k });
  rows.sort((a, b) => b.s - a.s);
  const precision: number[][] = [];
  const recall: number[] = [];
  IOU_THRESHOLDS.forEach((_, t) => {
    let tp = 0;
    let fp = 0;
    const rc: number[] = [];
    const pr: number[] = [];
    for (const { e, k } of rows) {
      if (e.ignored[t]![k]) continue;
      if (e.matched[t]![k]) tp++;
      else fp++;
      rc.push(tp / npig);
      pr.push(tp / (tp + fp + Number.EPSILON));
    }
    recall.push(rc.length ? rc[rc.length - 1]! : 0);
    for (let i = pr.length - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
    precision.push(
      COCO_RECALL_POINTS.map((r) => {
        let lo = 0;
        while (lo < rc.length && rc[lo]! < r) lo++; // searchsorted(rc, r, side="left")
        return lo < pr.length ? pr[lo]! : 0;
      }),
    );
  });
  return { precision, recall };
}

/** Evaluates detections the COCO way; categories = every class with ground truth or detections. */
export function cocoEvaluate(images: readonly CocoImage[]): CocoStats {
  const classes = new Set<number>();
  for (const im of images) {
    for (let i = 0; i < im.labels.length; i += 5) classes.add(im.labels[i]!);
    for (let i = 0; i < im.detections.length; i += 6) classes.add(im.detections[i + 5]!);
  }
  const cell = (areaName: string, maxDet: number) => {
    const range = COCO_AREA_RANGES.find((a) => a.name === areaName)!;
    return [...classes].map((c) =>
      accumulate(
        images.map((im) =>
          evaluateImage(
            boxesOf(im.labels, 5, c, 0, 1),
            boxesOf(im.detections, 6, c, 5, 0, 4),
            range.lo,
            range.hi,
            maxDet,
          ),
        ),
      ),
    );
  };
  const meanOf = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : -1);
  const ap = (areaName: string, threshold?: number) => {
    const vals: number[] = [];
    for (const r of cell(areaName, 100)) {
      if (!r) continue;
      r.precision.forEach((row, t) => {
        if (threshold === undefined || Math.abs(IOU_THRESHOLDS[t]! - threshold) < 1e-9) pushAll(vals, row);
      });
    }
    return meanOf(vals);
  };
  const ar = (areaName: string, maxDet: number) => {
    const vals: number[] = [];
    for (const r of cell(areaName, maxDet)) if (r) pushAll(vals, r.recall);
    return meanOf(vals);
  };
  return {
    ap: ap("all"),
    ap50: ap("all", 0.5),
    ap75: ap("all", 0.75),
    apSmall: ap("small"),
    apMedium: ap("medium"),
    apLarge: ap("large"),
    ar1: ar("all", 1),
    ar10: ar("all", 10),
    ar100: ar("all", 100),
    arSmall: ar("small", 100),
    arMedium: ar("medium", 100),
    arLarge: ar("large", 100),
  };
}

/** The familiar 12-line COCO summary. */
export function formatCocoStats(s: CocoStats): string {
  const f = (x: number) => x.toFixed(3);
  return formatTable([
    ["Metric", "IoU", "area", "maxDets", "value"],
    ["Average Precision (AP)", "0.50:0.95", "all", "100", f(s.ap)],
    ["Average Precision (AP)", "0.50", "all", "100", f(s.ap50)],
    ["Average Precision (AP)", "0.75", "all", "100", f(s.ap75)],
    ["Average Precision (AP)", "0.50:0.95", "small", "100", f(s.apSmall)],
    ["Average Precision (AP)", "0.50:0.95", "medium", "100", f(s.apMedium)],
    ["Average Precision (AP)", "0.50:0.95", "large", "100", f(s.apLarge)],
    ["Average Recall (AR)", "0.50:0.95", "all", "1", f(s.ar1)],
    ["Average Recall (AR)", "0.50:0.95", "all", "10", f(s.ar10)],
    ["Average Recall (AR)", "0.50:0.95", "all", "100", f(s.ar100)],
    ["Average Recall (AR)", "0.50:0.95", "small", "100", f(s.arSmall)],
    ["Average Recall (AR)", "0.50:0.95", "medium", "100", f(s.arMedium)],
    ["Average Recall (AR)", "0.50:0.95", "large", "100", f(s.arLarge)],
  ]);
}
