/**
 * YOLOv5's non_max_suppression on decoded predictions [B, N, 5 + nc] (xywh, objectness, class scores): confidence
 * = objectness × class score, class-aware (offset boxes per class) or agnostic NMS, optional multi-label output,
 * class filter and max_det. Returns per image a [n, 6] tensor: x1, y1, x2, y2, confidence, class.
 * YOLOv5's wall-clock time limit is not applied (it makes results depend on machine load).
 */
import { cat, type Tensor, tensor, tidy, zeros } from "../torch/index.js";
import { nms } from "../torch/vision.js";
import { CLASS_OFFSET, MAX_NMS_INPUT } from "./nms-constants.js";

export { CLASS_OFFSET, MAX_NMS_INPUT };

export interface NmsOptions {
  /** Minimum confidence (objectness, and objectness × class score). @default 0.25 */
  confThres?: number;
  /** IoU above which a lower-scored box is suppressed. @default 0.45 */
  iouThres?: number;
  /** Keep only these classes. */
  classes?: readonly number[];
  /** One NMS over all classes. @default false */
  agnostic?: boolean;
  /** A box may appear once per class above confThres (validation uses this). @default false */
  multiLabel?: boolean;
  /** Detections kept per image. @default 300 */
  maxDet?: number;
}

/** [xc, yc, w, h] → [x1, y1, x2, y2] on the last dimension. */
export function xywhToXyxyTensor(b: Tensor): Tensor {
  return tidy(() => {
    const xy = b.slice(-1, 0, 2);
    const half = b.slice(-1, 2, 4).div(2);
    return cat([xy.sub(half), xy.add(half)], -1);
  });
}

export function nonMaxSuppression(prediction: Tensor, options: NmsOptions = {}): Tensor[] {
  const { confThres = 0.25, iouThres = 0.45, classes, agnostic = false, maxDet = 300 } = options;
  if (confThres < 0 || confThres > 1) throw new RangeError(`confThres ${confThres} is outside [0, 1]`);
  if (iouThres < 0 || iouThres > 1) throw new RangeError(`iouThres ${iouThres} is outside [0, 1]`);
  const nc = prediction.size(2) - 5;
  const multiLabel = (options.multiLabel ?? false) && nc > 1;
  return tidy(() =>
    Array.from({ length: prediction.size(0) }, (_, b) => {
      let x = prediction.select(0, b);
      x = x.index(x.select(1, 4).gt(confThres));
      if (x.size(0) === 0) return zeros([0, 6], { dtype: prediction.dtype });
      const scores = x.slice(1, 5).mul(x.slice(1, 4, 5));
      const box = xywhToXyxyTensor(x.slice(1, 0, 4));
      if (multiLabel) {
        const ij = scores.gt(confThres).nonzero();
        const [i, j] = [ij.select(1, 0), ij.select(1, 1)];
        x = cat([box.index(i), scores.index(i, j).unsqueeze(1), j.to(x.dtype).unsqueeze(1)], 1);
      } else {
        const [conf, j] = scores.maxDim(1, true);
        x = cat([box, conf, j.to(x.dtype)], 1).index(conf.view(-1).gt(confThres));
      }
      if (classes && classes.length > 0) {
        const keep = x
          .slice(1, 5, 6)
          .eq(tensor([[...classes]]))
          .any(1);
        x = x.index(keep);
      }
      if (x.size(0) === 0) return zeros([0, 6], { dtype: prediction.dtype });
      x = x.indexSelect(0, x.select(1, 4).argsort(0, true).slice(0, 0, MAX_NMS_INPUT));
      const offsets = x.slice(1, 5, 6).mul(agnostic ? 0 : CLASS_OFFSET);
      const kept = nms(x.slice(1, 0, 4).add(offsets), x.select(1, 4), iouThres).slice(0, 0, maxDet);
      return x.indexSelect(0, kept);
    }),
  );
}
