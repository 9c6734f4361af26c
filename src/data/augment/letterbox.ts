/**
 * Letterbox (YOLOv5's `letterbox`): resize keeping the aspect ratio, then pad to the target shape with grey. The region
 * mask gets the same resize (nearest) and a border that is not labelled; boxes are scaled and shifted identically.
 */
import { resizeRgb } from "../pixels/image-kernels.js";
import { PAD_VALUE } from "./hyp.js";
import { resizeNearest } from "./resize.js";
import { mapBoxes, PADDING_MASK, type Sample } from "./types.js";

/** Options of {@link letterbox}. */
export interface LetterboxOptions {
  /** Target [height, width] in pixels. */
  shape: readonly [number, number];
  /** Pad only up to the next multiple of `stride` instead of the full shape (minimum rectangle). @default false */
  auto?: boolean;
  /** Stride for `auto`. @default 32 */
  stride?: number;
  /** Stretch to the shape without keeping the aspect ratio (no padding). @default false */
  scaleFill?: boolean;
  /** Allow enlarging; false only shrinks (YOLOv5 validation: better mAP on small images). @default true */
  scaleUp?: boolean;
  /** Grey of the border. @default 114 */
  padValue?: number;
  /** Mask value of the border: 1 (labelled) if true, else PADDING_MASK (not labelled, no image). @default false */
  paddingLabelled?: boolean;
}

/** The letterboxed sample and the transform applied: x' = x·ratio[0] + pad[0], y' = y·ratio[1] + pad[1]. */
export interface LetterboxResult {
  sample: Sample;
  ratio: [number, number];
  /** Left and top border in pixels. */
  pad: [number, number];
}

/** Where {@link letterbox} puts an image: its size after resizing, the transform and the output size. */
export interface LetterboxGeometry {
  /** Size of the resized image inside the border. */
  newW: number;
  newH: number;
  /** x' = x·ratio[0] + pad[0], y' = y·ratio[1] + pad[1]. */
  ratio: [number, number];
  /** Left and top border in pixels. */
  pad: [number, number];
  /** Size of the letterboxed image. */
  outW: number;
  outH: number;
}

/** The geometry of letterboxing a `w0` × `h0` image (no pixels touched): e.g. to map detections back. */
export function letterboxGeometry(w0: number, h0: number, options: LetterboxOptions): LetterboxGeometry {
  const { shape, auto = false, stride = 32, scaleFill = false, scaleUp = true } = options;
  const [th, tw] = shape;
  let r = Math.min(th / h0, tw / w0);
  if (!scaleUp) r = Math.min(r, 1);
  let newW = Math.round(w0 * r);
  let newH = Math.round(h0 * r);
  let dw = tw - newW;
  let dh = th - newH;
  if (auto) {
    dw %= stride;
    dh %= stride;
  } else if (scaleFill) {
    dw = 0;
    dh = 0;
    newW = tw;
    newH = th;
  }
  // YOLOv5 splits the padding as round(d/2 − 0.1) before and round(d/2 + 0.1) after.
  // (+ 0 turns Math.round(−0.1) = −0 into 0)
  const left = Math.round(dw / 2 - 0.1) + 0;
  const right = Math.round(dw / 2 + 0.1) + 0;
  const top = Math.round(dh / 2 - 0.1) + 0;
  const bottom = Math.round(dh / 2 + 0.1) + 0;
  return {
    newW,
    newH,
    ratio: [newW / w0, newH / h0],
    pad: [left, top],
    outW: newW + left + right,
    outH: newH + top + bottom,
  };
}

/** Letterboxes a sample (image, mask and boxes together). */
export function letterbox(sample: Sample, options: LetterboxOptions): LetterboxResult {
  const { padValue = PAD_VALUE } = options;
  const fillMask = options.paddingLabelled ? 1 : PADDING_MASK;
  const { newW, newH, ratio, pad, outW, outH } = letterboxGeometry(sample.image.width, sample.image.height, options);
  const [left, top] = pad;
  // cv2.resize(INTER_LINEAR), as YOLOv5's letterbox (a copy when the size is unchanged)
  const image = resizeRgb(sample.image, newW, newH, "linear");
  const mask = resizeNearest(sample.mask, newW, newH);
  const outImage = new Uint8Array(outW * outH * 3).fill(padValue);
  const outMask = new Uint8Array(outW * outH).fill(fillMask);
  for (let y = 0; y < newH; y++) {
    outImage.set(image.data.subarray(y * newW * 3, (y + 1) * newW * 3), ((y + top) * outW + left) * 3);
    outMask.set(mask.data.subarray(y * newW, (y + 1) * newW), (y + top) * outW + left);
  }
  const labels = mapBoxes(
    sample.labels,
    (x1, y1, x2, y2) => [x1 * ratio[0] + left, y1 * ratio[1] + top, x2 * ratio[0] + left, y2 * ratio[1] + top],
    Math.sqrt(ratio[0] * ratio[1]),
  );
  return {
    sample: {
      image: { data: outImage, width: outW, height: outH },
      mask: { data: outMask, width: outW, height: outH },
      labels,
    },
    ratio,
    pad: [left, top],
  };
}
