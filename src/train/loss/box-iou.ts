/** Complete-IoU between boxes, as YOLOv5's bbox_iou(…, CIoU=True): differentiable, rows paired elementwise. */
import { noGrad, type Tensor } from "../../torch/index.js";

/** Added to denominators, as YOLOv5. */
export const IOU_EPS = 1e-7;

/**
 * CIoU of box1[i] and box2[i] (xywh, same units), shape [N]: IoU − (ρ²/c² + αv) with v the aspect-ratio term and
 * α = v / max(v − IoU + 1 + eps, eps) computed without gradient.
 */
export function bboxCiou(box1: Tensor, box2: Tensor, eps = IOU_EPS): Tensor {
  const [x1, y1, w1, h1] = box1.unbind(-1) as [Tensor, Tensor, Tensor, Tensor];
  const [x2, y2, w2, h2] = box2.unbind(-1) as [Tensor, Tensor, Tensor, Tensor];
  const b1x1 = x1.sub(w1.div(2));
  const b1x2 = x1.add(w1.div(2));
  const b1y1 = y1.sub(h1.div(2));
  const b1y2 = y1.add(h1.div(2));
  const b2x1 = x2.sub(w2.div(2));
  const b2x2 = x2.add(w2.div(2));
  const b2y1 = y2.sub(h2.div(2));
  const b2y2 = y2.add(h2.div(2));
  const iw = b1x2.minimum(b2x2).sub(b1x1.maximum(b2x1)).clamp(0);
  const ih = b1y2.minimum(b2y2).sub(b1y1.maximum(b2y1)).clamp(0);
  const inter = iw.mul(ih);
  const union = w1.mul(h1).add(w2.mul(h2)).sub(inter).add(eps);
  const iou = inter.div(union);
  const cw = b1x2.maximum(b2x2).sub(b1x1.minimum(b2x1));
  const ch = b1y2.maximum(b2y2).sub(b1y1.minimum(b2y1));
  const c2 = cw.pow(2).add(ch.pow(2)).add(eps);
  const dx = b2x1.add(b2x2).sub(b1x1).sub(b1x2);
  const dy = b2y1.add(b2y2).sub(b1y1).sub(b1y2);
  const rho2 = dx.pow(2).add(dy.pow(2)).div(4);
  const v = w2
    .div(h2)
    .atan()
    .sub(w1.div(h1).atan())
    .pow(2)
    .mul(4 / Math.PI ** 2);
  // v − IoU + 1 ≥ v ≥ 0 in exact arithmetic; in float32 a box equal to its target (a student's own pseudo-label) can
  // round IoU above 1 and make it 0, so it is kept ≥ eps (YOLOv5 divides unguarded and returns inf/NaN there)
  const alpha = noGrad(() =>
    v.div(
      v
        .sub(iou)
        .add(1 + eps)
        .clamp(eps),
    ),
  );
  return iou.sub(rho2.div(c2).add(v.mul(alpha)));
}
