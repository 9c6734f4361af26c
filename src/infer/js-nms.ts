/**
 * YOLOv5's non_max_suppression in plain JavaScript for backends without libtorch (the ONNX one): the same rules as
 * src/eval/nms.ts (objectness gate, confidence = objectness × best class score, class filter, the 30000 most confident
 * boxes, greedy NMS within each class (what YOLOv5's class offsets do) or over all, max_det), on one image's decoded rows [N, 5 + nc].
 */
import { MAX_NMS_INPUT } from "../eval/nms-constants.js";

export interface JsNmsOptions {
  confThres: number;
  iouThres: number;
  maxDet: number;
  classes?: readonly number[] | null | undefined;
  agnostic: boolean;
}

/**
 * @param rows decoded rows of one image: (xc, yc, w, h, objectness, class scores…), `no` values each.
 * @returns [K, 6] rows of x1, y1, x2, y2, confidence, class, by confidence descending.
 */
export function nmsRows(rows: Float32Array, no: number, options: JsNmsOptions): { boxes: Float32Array; count: number } {
  const { confThres, iouThres, maxDet, classes, agnostic } = options;
  const n = rows.length / no;
  const wanted = classes && classes.length > 0 ? new Set(classes) : null;
  const cand: { x1: number; y1: number; x2: number; y2: number; conf: number; cls: number }[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * no;
    const obj = rows[o + 4]!;
    if (!(obj > confThres)) continue;
    let best = -1;
    let conf = Number.NEGATIVE_INFINITY;
    for (let c = 5; c < no; c++) {
      const s = Math.fround(rows[o + c]! * obj);
      if (s > conf) [conf, best] = [s, c - 5];
    }
    if (!(conf > confThres) || (wanted && !wanted.has(best))) continue;
    const [xc, yc, hw, hh] = [rows[o]!, rows[o + 1]!, rows[o + 2]! / 2, rows[o + 3]! / 2];
    cand.push({ x1: xc - hw, y1: yc - hh, x2: xc + hw, y2: yc + hh, conf, cls: best });
  }
  cand.sort((a, b) => b.conf - a.conf);
  if (cand.length > MAX_NMS_INPUT) cand.length = MAX_NMS_INPUT;
  const kept: typeof cand = [];
  const suppressed = new Uint8Array(cand.length);
  const area = (b: (typeof cand)[number]) => (b.x2 - b.x1) * (b.y2 - b.y1);
  for (let i = 0; i < cand.length && kept.length < maxDet; i++) {
    if (suppressed[i]) continue;
    const a = cand[i]!;
    kept.push(a);
    for (let j = i + 1; j < cand.length; j++) {
      const b = cand[j]!;
      if (suppressed[j] || (!agnostic && b.cls !== a.cls)) continue;
      const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
      const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
      if (iw <= 0 || ih <= 0) continue;
      const inter = iw * ih;
      if (inter / (area(a) + area(b) - inter) > iouThres) suppressed[j] = 1;
    }
  }
  const boxes = new Float32Array(kept.length * 6);
  kept.forEach((b, k) => {
    boxes.set([b.x1, b.y1, b.x2, b.y2, b.conf, b.cls], k * 6);
  });
  return { boxes, count: kept.length };
}
