/**
 * Random affine/perspective warp (YOLOv5's `random_perspective`). The matrix is composed in YOLOv5's order
 * M = T·S·R·P·C: centre the image (C), perspective (P), rotation and scale about the origin (R), shear (S), then
 * translate into the output (T). The image is resampled bilinearly, the region mask by nearest neighbour (it stays
 * 0/1), and every box is replaced by the bounding box of its four transformed corners, clipped to the output and
 * filtered by {@link isBoxCandidate}.
 *
 * Coordinates are continuous (pixel i spans [i, i+1)); the same M maps boxes and pixel centres, so boxes, image and
 * mask stay aligned. (OpenCV's warpAffine applies M to integer pixel indices instead, which shifts the image by up to
 * half a pixel against YOLOv5's boxes; we avoid that.)
 */
import type { Rng } from "../../util/random.js";
import { warpRgb } from "../pixels/image-kernels.js";
import { isBoxCandidate } from "./box-candidates.js";
import { type BoxCandidateOptions, PAD_VALUE } from "./hyp.js";
import { labelStride, PADDING_MASK, type Sample, scaledBy, selectLabels } from "./types.js";

/** A 3×3 matrix, row-major. */
export type Mat3 = readonly [number, number, number, number, number, number, number, number, number];

/** The identity. */
export const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** a·b. */
export function matMul(a: Mat3, b: Mat3): Mat3 {
  const out: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out.push(a[r * 3]! * b[c]! + a[r * 3 + 1]! * b[3 + c]! + a[r * 3 + 2]! * b[6 + c]!);
  }
  return out as unknown as Mat3;
}

/** The inverse of `m`; throws when it is singular. */
export function matInvert(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) throw new Error("singular transform matrix");
  const k = 1 / det;
  return [
    A * k,
    -(b * i - c * h) * k,
    (b * f - c * e) * k,
    B * k,
    (a * i - c * g) * k,
    -(a * f - c * d) * k,
    C * k,
    -(a * h - b * g) * k,
    (a * e - b * d) * k,
  ];
}

/** Maps the point (x, y) through `m` (with the perspective division). */
export function applyMat(m: Mat3, x: number, y: number): [number, number] {
  const z = m[6] * x + m[7] * y + m[8];
  return [(m[0] * x + m[1] * y + m[2]) / z, (m[3] * x + m[4] * y + m[5]) / z];
}

/** The geometric hyperparameters of {@link randomPerspective} (meanings as in {@link AugmentHyp}). */
export interface PerspectiveParams {
  degrees: number;
  translate: number;
  scale: number;
  shear: number;
  perspective: number;
}

/** A drawn transform: the matrix, its scale factor (for the box filter) and the output size. */
export interface PerspectiveDraw {
  matrix: Mat3;
  scale: number;
  outWidth: number;
  outHeight: number;
}

/**
 * Draws a transform for an input of `inWidth × inHeight`. `border` [y, x] grows (positive) or shrinks (negative) the
 * output by twice its value: a mosaic's 2s canvas with border −s/2 gives an s × s output.
 */
export function randomPerspectiveMatrix(
  rng: Rng,
  inWidth: number,
  inHeight: number,
  params: PerspectiveParams,
  border: readonly [number, number] = [0, 0],
): PerspectiveDraw {
  const outHeight = inHeight + border[0] * 2;
  const outWidth = inWidth + border[1] * 2;
  const C: Mat3 = [1, 0, -inWidth / 2, 0, 1, -inHeight / 2, 0, 0, 1];
  const px = rng.uniform(-params.perspective, params.perspective);
  const py = rng.uniform(-params.perspective, params.perspective);
  const P: Mat3 = [1, 0, 0, 0, 1, 0, px, py, 1];
  const angle = (rng.uniform(-params.degrees, params.degrees) * Math.PI) / 180;
  const scale = rng.uniform(1 - params.scale, 1 + params.scale);
  const alpha = scale * Math.cos(angle);
  const beta = scale * Math.sin(angle);
  const R: Mat3 = [alpha, beta, 0, -beta, alpha, 0, 0, 0, 1];
  const shx = Math.tan((rng.uniform(-params.shear, params.shear) * Math.PI) / 180);
  const shy = Math.tan((rng.uniform(-params.shear, params.shear) * Math.PI) / 180);
  const S: Mat3 = [1, shx, 0, shy, 1, 0, 0, 0, 1];
  const tx = rng.uniform(0.5 - params.translate, 0.5 + params.translate) * outWidth;
  const ty = rng.uniform(0.5 - params.translate, 0.5 + params.translate) * outHeight;
  const T: Mat3 = [1, 0, tx, 0, 1, ty, 0, 0, 1];
  const matrix = matMul(T, matMul(S, matMul(R, matMul(P, C))));
  return { matrix, scale, outWidth, outHeight };
}

/** Options of {@link warpSample} and {@link randomPerspective}. */
export interface WarpOptions {
  /** Grey outside the source image. @default 114 */
  padValue?: number;
  /** Mask value outside the source image: 1 if true, else PADDING_MASK. @default false */
  paddingLabelled?: boolean;
  /** Box filter thresholds. @default BOX_CANDIDATES */
  boxCandidates?: BoxCandidateOptions;
}

/**
 * Warps image (bilinear) and mask (nearest) of `sample` by `m` into `outWidth × outHeight`; labels untouched. Pixel
 * centres are mapped (see the module comment); the sampling runs in the image addon (src/data/pixels).
 */
export function warpPixels(
  sample: Sample,
  m: Mat3,
  outWidth: number,
  outHeight: number,
  options: WarpOptions = {},
): Pick<Sample, "image" | "mask"> {
  const pad = options.padValue ?? PAD_VALUE;
  const maskFill = options.paddingLabelled ? 1 : PADDING_MASK;
  const { image, mask } = warpRgb(
    { image: sample.image, mask: sample.mask.data },
    matInvert(m),
    outWidth,
    outHeight,
    pad,
    maskFill,
  );
  return { image, mask: { data: mask!, width: outWidth, height: outHeight } };
}

/**
 * Maps every box through `m` (bounding box of the four transformed corners), clips to the output and keeps the
 * boxes that pass {@link isBoxCandidate} against their original size times `scale`.
 */
export function transformBoxes(
  sample: Sample,
  m: Mat3,
  scale: number,
  outWidth: number,
  outHeight: number,
  options: BoxCandidateOptions = {},
): Sample["labels"] {
  const labels = sample.labels;
  const stride = labelStride(labels.numAttributes);
  const data = labels.data.slice(0, labels.count * stride);
  const keep = new Uint8Array(labels.count);
  for (let r = 0; r < labels.count; r++) {
    const o = r * stride;
    const x1 = data[o + 1]!;
    const y1 = data[o + 2]!;
    const x2 = data[o + 3]!;
    const y2 = data[o + 4]!;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const [cx, cy] of [
      [x1, y1],
      [x2, y2],
      [x1, y2],
      [x2, y1],
    ] as const) {
      const [tx, ty] = applyMat(m, cx, cy);
      minX = Math.min(minX, tx);
      maxX = Math.max(maxX, tx);
      minY = Math.min(minY, ty);
      maxY = Math.max(maxY, ty);
    }
    const nx1 = Math.min(Math.max(minX, 0), outWidth);
    const nx2 = Math.min(Math.max(maxX, 0), outWidth);
    const ny1 = Math.min(Math.max(minY, 0), outHeight);
    const ny2 = Math.min(Math.max(maxY, 0), outHeight);
    data[o + 1] = nx1;
    data[o + 2] = ny1;
    data[o + 3] = nx2;
    data[o + 4] = ny2;
    keep[r] = isBoxCandidate((x2 - x1) * scale, (y2 - y1) * scale, nx2 - nx1, ny2 - ny1, options) ? 1 : 0;
  }
  return selectLabels(
    { data, count: labels.count, numAttributes: labels.numAttributes, ...scaledBy(labels, scale) },
    keep,
  );
}

/** True when `m` is the identity. */
export function isIdentity(m: Mat3): boolean {
  return m.every((v, i) => v === IDENTITY[i]);
}

/** Applies a drawn transform to a whole sample (pixels, mask and boxes). */
export function applyPerspective(sample: Sample, draw: PerspectiveDraw, options: WarpOptions = {}): Sample {
  const { matrix, scale, outWidth, outHeight } = draw;
  const sameGeometry = isIdentity(matrix) && outWidth === sample.image.width && outHeight === sample.image.height;
  const pixels = sameGeometry ? sample : warpPixels(sample, matrix, outWidth, outHeight, options);
  const labels = transformBoxes(sample, matrix, scale, outWidth, outHeight, options.boxCandidates);
  return { image: pixels.image, mask: pixels.mask, labels };
}

/** YOLOv5's `random_perspective` on a sample; `border` as in {@link randomPerspectiveMatrix}. */
export function randomPerspective(
  sample: Sample,
  params: PerspectiveParams,
  rng: Rng,
  border: readonly [number, number] = [0, 0],
  options: WarpOptions = {},
): Sample {
  const draw = randomPerspectiveMatrix(rng, sample.image.width, sample.image.height, params, border);
  return applyPerspective(sample, draw, options);
}
