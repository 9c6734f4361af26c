/**
 * Average precision as YOLOv5's utils/metrics.py defines it: per class, detections sorted by confidence, cumulative
 * TP/FP, AP by 101-point interpolation of the precision envelope, and P, R, F1 read at the confidence that maximises
 * the (smoothed) mean F1 over classes. Curves are sampled on 1000 confidence points for plotting.
 */

/** Confidence points of the P/R/F1 curves. */
export const CURVE_POINTS = 1000;
/** Recall points of the interpolated AP. */
export const AP_RECALL_POINTS = 101;
/** Box-filter fraction for smoothing the mean-F1 curve before taking its maximum. */
export const F1_SMOOTHING = 0.1;
const EPS = 1e-16;

/** Linear interpolation like numpy.interp: xp increasing; left/right values outside. */
export function interp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>, left?: number, right?: number): number {
  const n = xp.length;
  if (n === 0) return Number.NaN;
  if (x < xp[0]!) return left ?? fp[0]!;
  if (x > xp[n - 1]!) return right ?? fp[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid;
  }
  // numpy returns fp at the last xp equal to x
  while (lo + 1 < n && xp[lo + 1]! === x) lo++;
  if (xp[lo] === x) return fp[lo]!;
  const t = (x - xp[lo]!) / (xp[hi]! - xp[lo]!);
  return fp[lo]! + t * (fp[hi]! - fp[lo]!);
}

/** AP of one recall/precision curve (in confidence order): envelope, then trapezoid over 101 recall points. */
export function computeAp(
  recall: ArrayLike<number>,
  precision: ArrayLike<number>,
): { ap: number; mrec: number[]; mpre: number[] } {
  const mrec = [0, ...Array.from(recall), 1];
  const mpre = [1, ...Array.from(precision), 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i]!, mpre[i + 1]!);
  const step = 1 / (AP_RECALL_POINTS - 1);
  let ap = 0;
  let prev = interp(0, mrec, mpre);
  for (let k = 1; k < AP_RECALL_POINTS; k++) {
    const y = interp(k * step, mrec, mpre);
    ap += ((prev + y) / 2) * step;
    prev = y;
  }
  return { ap, mrec, mpre };
}

/** Box-filter smoothing with edge padding, as YOLOv5's smooth(y, f). */
export function smooth(y: readonly number[], f = 0.05): number[] {
  const nf = Math.floor(Math.round(y.length * f * 2) / 2) + 1;
  const pad = Math.floor(nf / 2);
  const padded = [...Array(pad).fill(y[0]), ...y, ...Array(pad).fill(y[y.length - 1])] as number[];
  const out: number[] = [];
  for (let i = 0; i + nf <= padded.length; i++) {
    let s = 0;
    for (let k = 0; k < nf; k++) s += padded[i + k]!;
    out.push(s / nf);
  }
  return out;
}

/** Per-class results and the curves behind them. */
export interface ApResult {
  /** Classes that have ground truth, ascending. */
  classes: number[];
  /** Ground-truth instances per class (aligned with classes). */
  instances: number[];
  /** AP per class per IoU threshold: ap[c][t]. */
  ap: number[][];
  /** Precision, recall, F1 per class at the max-mean-F1 confidence. */
  p: number[];
  r: number[];
  f1: number[];
  /** True and false positives per class at that confidence (rounded, as YOLOv5). */
  tp: number[];
  fp: number[];
  /** Confidence at which P/R/F1 were read. */
  confidence: number;
  /** Curves on CURVE_POINTS confidences (px): per class P, R, F1 (vs confidence) and precision vs recall at IoU 0.5. */
  curves: { px: number[]; p: number[][]; r: number[][]; f1: number[][]; prAt50: number[][] };
}

/**
 * @param tp [n × t] true-positive flags per detection per IoU threshold
 * @param conf [n] detection confidences
 * @param predCls [n] detection classes
 * @param targetCls ground-truth classes of all images
 */
export function apPerClass(
  tp: Uint8Array,
  conf: ArrayLike<number>,
  predCls: ArrayLike<number>,
  targetCls: ArrayLike<number>,
  thresholds: number,
): ApResult {
  const n = conf.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => conf[b]! - conf[a]!);
  const counts = new Map<number, number>();
  for (let i = 0; i < targetCls.length; i++) counts.set(targetCls[i]!, (counts.get(targetCls[i]!) ?? 0) + 1);
  const classes = [...counts.keys()].sort((a, b) => a - b);
  const px = Array.from({ length: CURVE_POINTS }, (_, i) => i / (CURVE_POINTS - 1));
  const negPx = px.map((x) => -x);
  const ap: number[][] = [];
  const pCurves: number[][] = [];
  const rCurves: number[][] = [];
  const prAt50: number[][] = [];
  for (const c of classes) {
    const idx = order.filter((i) => predCls[i] === c);
    const nl = counts.get(c)!;
    const apRow = new Array<number>(thresholds).fill(0);
    if (idx.length === 0 || nl === 0) {
      ap.push(apRow);
      pCurves.push(new Array<number>(CURVE_POINTS).fill(0));
      rCurves.push(new Array<number>(CURVE_POINTS).fill(0));
      prAt50.push(new Array<number>(CURVE_POINTS).fill(0));
      continue;
    }
    const negConf = idx.map((i) => -conf[i]!);
    const recalls: number[][] = [];
    const precisions: number[][] = [];
    for (let t = 0; t < thresholds; t++) {
      let tpc = 0;
      let fpc = 0;
      const rec: number[] = [];
      const pre: number[] = [];
      for (const i of idx) {
        if (tp[i * thresholds + t]) tpc++;
        else fpc++;
        rec.push(tpc / (nl + EPS));
        pre.push(tpc / (tpc + fpc));
      }
      recalls.push(rec);
      precisions.push(pre);
      const res = computeAp(rec, pre);
      apRow[t] = res.ap;
      if (t === 0) prAt50.push(px.map((x) => interp(x, res.mrec, res.mpre)));
    }
    ap.push(apRow);
    rCurves.push(negPx.map((x) => interp(x, negConf, recalls[0]!, 0)));
    pCurves.push(negPx.map((x) => interp(x, negConf, precisions[0]!, 1)));
  }
  const f1Curves = pCurves.map((pc, k) => pc.map((p, j) => (2 * p * rCurves[k]![j]!) / (p + rCurves[k]![j]! + EPS)));
  const meanF1 = px.map((_, j) =>
    f1Curves.length ? f1Curves.reduce((s, row) => s + row[j]!, 0) / f1Curves.length : 0,
  );
  const sm = smooth(meanF1, F1_SMOOTHING);
  let best = 0;
  for (let j = 1; j < sm.length; j++) if (sm[j]! > sm[best]!) best = j;
  const p = pCurves.map((row) => row[best]!);
  const r = rCurves.map((row) => row[best]!);
  const f1 = f1Curves.map((row) => row[best]!);
  const instances = classes.map((c) => counts.get(c)!);
  const tpAt = r.map((ri, k) => Math.round(ri * instances[k]!));
  const fpAt = tpAt.map((t, k) => Math.round(t / (p[k]! + EPS) - t));
  return {
    classes,
    instances,
    ap,
    p,
    r,
    f1,
    tp: tpAt,
    fp: fpAt,
    confidence: px[best]!,
    curves: { px, p: pCurves, r: rCurves, f1: f1Curves, prAt50 },
  };
}
