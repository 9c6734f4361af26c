/** Box math on plain arrays (no engine): conversions and pairwise IoU. Boxes are rows of 4 numbers. */

/** [xc, yc, w, h] → [x1, y1, x2, y2], row by row. */
export function xywhToXyxy(boxes: ArrayLike<number>): Float64Array {
  const out = new Float64Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    const [x, y, w, h] = [boxes[i]!, boxes[i + 1]!, boxes[i + 2]!, boxes[i + 3]!];
    out[i] = x - w / 2;
    out[i + 1] = y - h / 2;
    out[i + 2] = x + w / 2;
    out[i + 3] = y + h / 2;
  }
  return out;
}

/** IoU of one box a (xyxy) at offset ai with box b at offset bi. Zero-area unions give 0. */
export function iouAt(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  const iw = Math.min(a[ai + 2]!, b[bi + 2]!) - Math.max(a[ai]!, b[bi]!);
  const ih = Math.min(a[ai + 3]!, b[bi + 3]!) - Math.max(a[ai + 1]!, b[bi + 1]!);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const areaA = (a[ai + 2]! - a[ai]!) * (a[ai + 3]! - a[ai + 1]!);
  const areaB = (b[bi + 2]! - b[bi]!) * (b[bi + 3]! - b[bi + 1]!);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Pairwise IoU of boxes a (n rows) and b (m rows), xyxy, as an n×m row-major matrix.
 * @param strideA numbers per row of a (4 for plain boxes, more when rows carry extra columns) @default 4
 * @param offsetA column of x1 in a's rows @default 0
 */
export function boxIou(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: { strideA?: number; offsetA?: number; strideB?: number; offsetB?: number } = {},
): Float64Array {
  const { strideA = 4, offsetA = 0, strideB = 4, offsetB = 0 } = options;
  const n = Math.floor(a.length / strideA);
  const m = Math.floor(b.length / strideB);
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) out[i * m + j] = iouAt(a, i * strideA + offsetA, b, j * strideB + offsetB);
  }
  return out;
}
