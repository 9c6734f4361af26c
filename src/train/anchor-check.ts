/**
 * YOLOv5's check_anchors at the start of training: the model's anchors against the training labels' sizes, a
 * warning when they fit poorly, and evolved anchors written into the model when asked for and better.
 */
import type { LoaderItem } from "../data/loader.js";
import type { YoloModel } from "../model/yolo.js";
import { tensor } from "../torch/index.js";
import { anchorFit, BPR_THRESHOLD, evolveAnchors } from "./autoanchor.js";

/** What the check needs from the run's options. */
export interface AnchorCheckOptions {
  /** The hyp's anchor_t (width/height ratio threshold). */
  anchorT: number;
  /** Evolve new anchors on a poor fit (otherwise only warn). */
  evolve: boolean;
  /** Seed of the evolution's random search. */
  seed: number;
}

/** Label sizes in pixels at the training size (long side = imgsz), for AutoAnchor. */
export function labelSizes(items: readonly LoaderItem[], imgsz: number): number[] {
  const wh: number[] = [];
  for (const it of items) {
    const scale = imgsz / Math.max(it.width, it.height);
    for (const l of it.labels) wh.push(l.w * it.width * scale, l.h * it.height * scale);
  }
  return wh;
}

/** Checks the model's anchors on the label sizes `wh`; on a poor fit evolves new ones when `options.evolve`. */
export function checkAnchors(
  model: YoloModel,
  wh: number[],
  options: AnchorCheckOptions,
  log: (m: string) => void,
): void {
  if (wh.length === 0) {
    log("warning: AutoAnchor: no labels to check the anchors against: anchors kept");
    return;
  }
  const stride = model.stride;
  const perLevel = model.detect.na * 2;
  const grid = model.detect.anchors.data.toArray();
  const px = grid.map((v, i) => v * stride[Math.floor(i / perLevel)]!);
  const fit = anchorFit(wh, px, options.anchorT);
  const msg = `AutoAnchor: ${fit.aat.toFixed(2)} anchors/target, best possible recall ${fit.bpr.toFixed(4)}`;
  if (fit.bpr > BPR_THRESHOLD) {
    log(`${msg}: anchors fit the dataset`);
    return;
  }
  if (!options.evolve) {
    log(`warning: ${msg} < ${BPR_THRESHOLD}: anchors fit the dataset poorly (evolve new ones with --evolve-anchors)`);
    return;
  }
  const evolved = evolveAnchors(wh, px.length / 2, { anchorT: options.anchorT, seed: options.seed });
  const newFit = anchorFit(wh, evolved, options.anchorT);
  if (newFit.bpr <= fit.bpr) {
    log(`${msg}; evolved anchors are no better (BPR ${newFit.bpr.toFixed(4)}): kept the originals`);
    return;
  }
  const gridUnits = Array.from(evolved, (v, i) => v / stride[Math.floor(i / perLevel)]!);
  model.detect.anchors.data = tensor(gridUnits, model.detect.anchors.data.shape);
  log(
    `${msg}; evolved anchors raise BPR to ${newFit.bpr.toFixed(4)}: ${Array.from(evolved, (v) => v.toFixed(0)).join(",")}`,
  );
}
