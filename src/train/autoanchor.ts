/**
 * AutoAnchor as YOLOv5 defines it: the best possible recall (BPR) of the anchors on the dataset's label sizes — the
 * fraction of labels with some anchor whose width and height ratios are both within anchor_t — and, when BPR ≤ 0.98,
 * optional evolution of new anchors (k-means on label sizes, then a genetic search maximising the same fitness).
 * Sizes are in pixels at the training image size. Pure TypeScript; the random search is seeded.
 */
import { Rng } from "../util/random.js";

/** Below this BPR the anchors are reported as a poor fit. */
export const BPR_THRESHOLD = 0.98;
/** Labels smaller than this (pixels) are left out of the evolution, as YOLOv5. */
export const MIN_LABEL_SIZE = 2;
/** Genetic search: generations, mutation probability and scale. */
export const EVOLVE_GENERATIONS = 1000;
export const MUTATION_PROB = 0.9;
export const MUTATION_SIGMA = 0.1;

/** Label sizes [w0, h0, w1, h1, …] and anchors [w, h, …] in pixels. */
export interface AnchorFit {
  /** Best possible recall. */
  bpr: number;
  /** Anchors above threshold per label (mean). */
  aat: number;
}

/** ratio metric of a label size against an anchor: min over w, h of min(r, 1/r). */
function ratio(w: number, h: number, aw: number, ah: number): number {
  const rw = w / aw;
  const rh = h / ah;
  return Math.min(Math.min(rw, 1 / rw), Math.min(rh, 1 / rh));
}

export function anchorFit(wh: ArrayLike<number>, anchors: ArrayLike<number>, anchorT: number): AnchorFit {
  const n = wh.length / 2;
  const k = anchors.length / 2;
  if (n === 0) return { bpr: 1, aat: 0 };
  let best = 0;
  let above = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < k; j++) {
      const x = ratio(wh[2 * i]!, wh[2 * i + 1]!, anchors[2 * j]!, anchors[2 * j + 1]!);
      if (x > 1 / anchorT) above++;
      m = Math.max(m, x);
    }
    if (m > 1 / anchorT) best++;
  }
  return { bpr: best / n, aat: above / n };
}

/** YOLOv5's anchor fitness: mean over labels of the best ratio, counting only ratios above 1/anchor_t. */
function fitness(wh: ArrayLike<number>, anchors: ArrayLike<number>, anchorT: number): number {
  const n = wh.length / 2;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < anchors.length / 2; j++)
      m = Math.max(m, ratio(wh[2 * i]!, wh[2 * i + 1]!, anchors[2 * j]!, anchors[2 * j + 1]!));
    if (m > 1 / anchorT) s += m;
  }
  return n > 0 ? s / n : 0;
}

function kmeans(points: number[][], k: number, rng: Rng, iterations = 30): number[][] {
  // k-means++ seeding, then Lloyd iterations, on whitened coordinates (divided by the per-axis std, as YOLOv5)
  const centres: number[][] = [points[rng.int(0, points.length)]!];
  while (centres.length < k) {
    const d = points.map((p) => Math.min(...centres.map((c) => (p[0]! - c[0]!) ** 2 + (p[1]! - c[1]!) ** 2)));
    const total = d.reduce((a, b) => a + b, 0);
    let r = rng.next() * total;
    let idx = 0;
    while (idx < d.length - 1 && r > d[idx]!) r -= d[idx++]!;
    centres.push([...points[idx]!]);
  }
  for (let it = 0; it < iterations; it++) {
    const sums = centres.map(() => [0, 0, 0]);
    for (const p of points) {
      let bi = 0;
      let bd = Number.POSITIVE_INFINITY;
      centres.forEach((c, ci) => {
        const dd = (p[0]! - c[0]!) ** 2 + (p[1]! - c[1]!) ** 2;
        if (dd < bd) [bd, bi] = [dd, ci];
      });
      const s = sums[bi]!;
      s[0]! += p[0]!;
      s[1]! += p[1]!;
      s[2]! += 1;
    }
    sums.forEach((s, ci) => {
      if (s[2]! > 0) centres[ci] = [s[0]! / s[2]!, s[1]! / s[2]!];
    });
  }
  return centres;
}

/** Evolves `count` anchors for the label sizes; returns them sorted by area, [w, h, …]. */
export function evolveAnchors(
  wh: ArrayLike<number>,
  count: number,
  options: { anchorT: number; seed?: number; generations?: number },
): Float64Array {
  const rng = new Rng(options.seed ?? 0);
  const pts: number[][] = [];
  for (let i = 0; i < wh.length; i += 2)
    if (wh[i]! >= MIN_LABEL_SIZE && wh[i + 1]! >= MIN_LABEL_SIZE) pts.push([wh[i]!, wh[i + 1]!]);
  if (pts.length < count)
    throw new Error(`cannot evolve ${count} anchors from ${pts.length} labels of at least ${MIN_LABEL_SIZE} px`);
  const mean = [0, 1].map((a) => pts.reduce((s, p) => s + p[a]!, 0) / pts.length);
  const std = [0, 1].map((a) => Math.sqrt(pts.reduce((s, p) => s + (p[a]! - mean[a]!) ** 2, 0) / pts.length) || 1);
  const white = pts.map((p) => [p[0]! / std[0]!, p[1]! / std[1]!]);
  let anchors = Float64Array.from(kmeans(white, count, rng).flatMap((c) => [c[0]! * std[0]!, c[1]! * std[1]!]));
  const labels = Float64Array.from(pts.flat());
  let best = fitness(labels, anchors, options.anchorT);
  for (let g = 0; g < (options.generations ?? EVOLVE_GENERATIONS); g++) {
    const candidate = anchors.map((a) => {
      const m = rng.next() < MUTATION_PROB ? rng.next() * rng.normal() * MUTATION_SIGMA + 1 : 1;
      return Math.max(a * Math.min(Math.max(m, 0.3), 3), MIN_LABEL_SIZE);
    });
    const f = fitness(labels, candidate, options.anchorT);
    if (f > best) [best, anchors] = [f, candidate];
  }
  const order = Array.from({ length: count }, (_, i) => i).sort(
    (a, b) => anchors[2 * a]! * anchors[2 * a + 1]! - anchors[2 * b]! * anchors[2 * b + 1]!,
  );
  return Float64Array.from(order.flatMap((i) => [anchors[2 * i]!, anchors[2 * i + 1]!]));
}
