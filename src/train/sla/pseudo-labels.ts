/**
 * Pseudo-label selection of phase 2 (the seed's "P selection", method.md §4.3, with design.md §4 decision 6):
 * decoded predictions → class-agnostic NMS (conf pl_nms_conf, or lower when calibrated; IoU pl_nms_iou, pl_max_det per
 * image; with pl_flip, fused with the detections of the input's left-right mirror by weighted boxes fusion) → per
 * detection: area > pl_min_area; confidence > threshold t (pl_conf, or a calibrated one) and normalised class entropy
 * ≤ pl_entropy → a pseudo-label; sim_conf · t / pl_conf < confidence ≤ t → a similarity anchor (the
 * seed's band (0.6, 0.95] at t = 0.95). Both sets then lose every box that
 * overlaps a ground-truth box of its image by more than pl_gt_overlap px² and, unless told otherwise, every box whose
 * centre lies in the labelled region (there the labels are complete: a prediction without ground truth is a false
 * positive, not a missed label) or on padding (no image there). The predictions centred in regions are returned, right
 * or wrong, to calibrate the threshold (calibration.ts). Box units: pixels of the network input, whatever its size
 * (the seed assumed 640).
 */
import { iouAt } from "../../eval/box.js";
import { cat, noGrad, type Tensor, tensor, tidy, zeros } from "../../torch/index.js";
import { nms } from "../../torch/vision.js";
import { pushAll } from "../../util/arrays.js";
import { labelledTargets } from "../loss/region-mask.js";
import { type CalibrationSample, NO_PSEUDO_LABELS } from "./calibration.js";
import type { SlaHyp } from "./hyp.js";
import { greedyMatch } from "./pseudo-stats.js";
import { type ClassBox, classBoxes } from "./similarity.js";

/** A selected box: image index, class, centre and size normalised to the input, and its confidence. */
export interface PseudoBox extends ClassBox {
  conf: number;
}

export interface PseudoLabelSets {
  /** Confident predictions: the pseudo-label targets. */
  pseudo: PseudoBox[];
  /** Mid-confidence predictions: the similarity loss's anchors. */
  anchors: PseudoBox[];
  /** Predictions centred in labelled regions, right or wrong (for {@link ThresholdCalibrator}). */
  calibration: CalibrationSample[];
}

export interface SelectOptions {
  /** Confidence above which a detection is a pseudo-label. @default hyp.pl_conf */
  threshold?: number;
  /** Confidence floor of the proposals' NMS. @default hyp.pl_nms_conf */
  nmsConf?: number;
  /** Drop boxes centred in the labelled region (ours); false = the seed's behaviour. @default true */
  excludeRegion?: boolean;
  /**
   * uint8 [B, 1, H, W], 0 where augmentation left no image (Batch.imageMask): boxes centred there are dropped from both
   * sets (ours: padding is unlabelled, so the seed admitted what the model saw in the grey). @default none dropped
   */
  imageMask?: Tensor;
  /**
   * [B, N, 5 + nc] decoded predictions of the same detector on the left-right mirror of the input (pl_flip): each
   * image's detections of the two views are fused ({@link fuseViews}) before the gate. @default one view
   */
  mirrored?: Tensor;
}

/** A detection after NMS, in input pixels, with its per-class scores (objectness × class probability). */
export interface Detection {
  image: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  conf: number;
  cls: number;
  scores: Float32Array;
}

/** Entropy of the scores normalised to sum 1, divided by ln(nc) (0 for one class): 0 = certain, 1 = uniform. */
export function normalisedEntropy(scores: ArrayLike<number>): number {
  const n = scores.length;
  if (n < 2) return 0;
  let sum = 0;
  for (let k = 0; k < n; k++) sum += scores[k]!;
  if (!(sum > 0)) return 1;
  let h = 0;
  for (let k = 0; k < n; k++) {
    const p = scores[k]! / sum;
    if (p > 0) h -= p * Math.log(p);
  }
  return h / Math.log(n);
}

/** Class-agnostic NMS of one image's decoded rows [N, 5 + nc] (xywh px, obj, class probabilities). */
function detectionsOfImage(rows: Tensor, image: number, h: SlaHyp, nmsConf: number): Detection[] {
  const nc = rows.size(1) - 5;
  let x = rows.index(rows.select(1, 4).gt(nmsConf));
  if (x.size(0) === 0) return [];
  const scores = x.slice(1, 5).mul(x.slice(1, 4, 5));
  const [conf] = scores.maxDim(1);
  const keep = conf.gt(nmsConf);
  x = x.index(keep);
  if (x.size(0) === 0) return [];
  const s = scores.index(keep);
  const c = conf.index(keep);
  const xy = x.slice(1, 0, 2);
  const half = x.slice(1, 2, 4).div(2);
  const boxes = cat([xy.sub(half), xy.add(half)], 1);
  const kept = nms(boxes, c, h.pl_nms_iou).slice(0, 0, h.pl_max_det);
  const b = boxes.indexSelect(0, kept).toTypedArray<"float32">();
  const sc = s.indexSelect(0, kept).toTypedArray<"float32">();
  return Array.from({ length: kept.size(0) }, (_, i) =>
    withScores(
      { image, x1: b[4 * i]!, y1: b[4 * i + 1]!, x2: b[4 * i + 2]!, y2: b[4 * i + 3]! },
      sc.slice(i * nc, (i + 1) * nc),
    ),
  );
}

/** A box with per-class scores `scores`: its confidence and class are their maximum and its argmax. */
function withScores(d: Omit<Detection, "conf" | "cls" | "scores">, scores: Float32Array): Detection {
  let cls = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[cls]!) cls = k;
  return { ...d, scores, conf: scores[cls]!, cls };
}

/**
 * Weighted Boxes Fusion of one image's detections from two views (Solovyev, Wang and Gabruseva, *Weighted boxes
 * fusion: ensembling boxes from different object detection models*, Image and Vision Computing 2021), for pl_flip:
 * each detection of `a` (highest confidence first) is paired with the unpaired detection of `b` it overlaps most, at
 * IoU ≥ `iou`; a pair becomes one box, its corners the confidence-weighted mean of the two, its class scores their
 * mean; a detection only one view made keeps half its scores (WBF's confidence × boxes in the cluster / views), so a
 * box both views agree on outranks one that only one view saw.
 */
export function fuseViews(a: readonly Detection[], b: readonly Detection[], iou: number): Detection[] {
  const paired = new Uint8Array(b.length);
  const corners = (d: Detection) => [d.x1, d.y1, d.x2, d.y2];
  const bCorners = b.map(corners);
  const half = (d: Detection) =>
    withScores(
      d,
      d.scores.map((x) => x / 2),
    );
  const fused = [...a]
    .sort((p, q) => q.conf - p.conf)
    .map((d) => {
      const dCorners = corners(d);
      let best = -1;
      let bestIou = iou;
      for (let j = 0; j < b.length; j++) {
        const o = paired[j] ? 0 : iouAt(dCorners, 0, bCorners[j]!, 0);
        if (o >= bestIou) [best, bestIou] = [j, o];
      }
      if (best < 0) return half(d);
      paired[best] = 1;
      const e = b[best]!;
      const mean = (u: number, v: number) => (u * d.conf + v * e.conf) / (d.conf + e.conf);
      const box = { x1: mean(d.x1, e.x1), y1: mean(d.y1, e.y1), x2: mean(d.x2, e.x2), y2: mean(d.y2, e.y2) };
      return withScores(
        { ...d, ...box },
        d.scores.map((x, k) => (x + e.scores[k]!) / 2),
      );
    });
  return [...fused, ...b.filter((_, j) => !paired[j]).map(half)];
}

/** A detection on the left-right mirror of a `width`-pixel-wide input, mapped back onto the input. */
function unmirror(d: Detection, width: number): Detection {
  return { ...d, x1: width - d.x2, x2: width - d.x1 };
}

/** Largest intersection area (px² of a width × height input) of `d` with a ground-truth box of the same image. */
function maxGtIntersection(d: Detection, truth: readonly ClassBox[], width: number, height: number): number {
  let best = 0;
  for (const g of truth) {
    if (g.image !== d.image) continue;
    const [xc, yc, w, h] = [g.xc * width, g.yc * height, g.w * width, g.h * height];
    const iw = Math.min(d.x2, xc + w / 2) - Math.max(d.x1, xc - w / 2);
    const ih = Math.min(d.y2, yc + h / 2) - Math.max(d.y1, yc - h / 2);
    if (iw > 0 && ih > 0) best = Math.max(best, iw * ih);
  }
  return best;
}

function toPseudoBox(d: Detection, width: number, height: number): PseudoBox {
  return {
    image: d.image,
    cls: d.cls,
    xc: (d.x1 + d.x2) / 2 / width,
    yc: (d.y1 + d.y2) / 2 / height,
    w: (d.x2 - d.x1) / width,
    h: (d.y2 - d.y1) / height,
    conf: d.conf,
  };
}

/** [n, 6] rows (image, class, xc, yc, w, h) of boxes, the layout of a batch's targets. */
export function pseudoTargets(boxes: readonly PseudoBox[]): Tensor {
  if (boxes.length === 0) return zeros([0, 6]);
  return tensor(
    boxes.flatMap((b) => [b.image, b.cls, b.xc, b.yc, b.w, b.h]),
    [boxes.length, 6],
  );
}

/**
 * Selects pseudo-labels and similarity anchors.
 * @param decoded [B, N, 5 + nc] decoded predictions (Detect.decode), any grad state (read without grad)
 * @param targets the batch's ground truth [N, ≥6] (image, class, xc, yc, w, h normalised)
 * @param regionMask uint8 [B, 1, H, W] (1 = labelled); its size is the network input's
 */
export function selectPseudoLabels(
  decoded: Tensor,
  targets: Tensor,
  regionMask: Tensor,
  hyp: SlaHyp,
  options: SelectOptions = {},
): PseudoLabelSets {
  const threshold = options.threshold ?? hyp.pl_conf;
  const nmsConf = options.nmsConf ?? hyp.pl_nms_conf;
  const simLow = (hyp.sim_conf * threshold) / hyp.pl_conf; // the seed's band (0.6, 0.95] scaled to the threshold
  const excludeRegion = options.excludeRegion ?? true;
  const [, , height, width] = regionMask.shape as [number, number, number, number];
  return tidy(() =>
    noGrad(() => {
      const detections: Detection[] = [];
      for (let b = 0; b < decoded.size(0); b++) {
        const own = detectionsOfImage(decoded.select(0, b).detach(), b, hyp, nmsConf);
        const mirrored = options.mirrored
          ? detectionsOfImage(options.mirrored.select(0, b).detach(), b, hyp, nmsConf).map((d) => unmirror(d, width))
          : null;
        pushAll(detections, mirrored ? fuseViews(own, mirrored, hyp.pl_flip_iou) : own);
      }
      const truth = classBoxes(targets);
      const sized = detections.filter((d) => (d.x2 - d.x1) * (d.y2 - d.y1) > hyp.pl_min_area);
      const boxes = sized.map((d) => toPseudoBox(d, width, height));
      const centres = boxes.length > 0 ? pseudoTargets(boxes) : null;
      const inside = centres ? labelledTargets(centres, regionMask).toTypedArray<"bool">() : [];
      // the cell-in-region rule's centre test, on the image mask
      const onImage =
        centres && options.imageMask ? labelledTargets(centres, options.imageMask).toTypedArray<"bool">() : null;
      const insideBoxes = boxes.filter((_, i) => inside[i]);
      const matched = greedyMatch(insideBoxes, truth);
      const calibration = insideBoxes.map((b, i) => ({
        conf: b.conf,
        correct: matched[i]! >= 0 && truth[matched[i]!]!.cls === b.cls,
      }));
      const candidates = sized.flatMap((d, i) => {
        if ((excludeRegion && inside[i]) || (onImage && !onImage[i])) return [];
        if (d.conf <= simLow || maxGtIntersection(d, truth, width, height) > hyp.pl_gt_overlap) return [];
        if (d.conf > threshold && normalisedEntropy(d.scores) > hyp.pl_entropy) return [];
        return [boxes[i]!];
      });
      return {
        pseudo: candidates.filter((b) => b.conf > threshold),
        // an unreliable model (calibration found no usable threshold) proposes no anchors either
        anchors: threshold < NO_PSEUDO_LABELS ? candidates.filter((b) => b.conf <= threshold) : [],
        calibration,
      };
    }),
  );
}
