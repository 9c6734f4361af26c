/**
 * YOLOv5 validation's "native space": val.py maps every prediction and every label from the letterboxed network
 * input back to the original image (scale_boxes with the loader's ratio and padding) and clips them to the image
 * (clip_boxes) before matching them. Clipping changes the IoU of every box that crosses the image border, so
 * mAP50-95 computed on unclipped boxes is lower than YOLOv5's (0.019 on BCCD). Pure TypeScript, no torch.
 */
import { letterboxGeometry } from "../data/augment/letterbox.js";
import { loadedSize } from "../data/sample-source.js";

/**
 * How a validation input maps back to its original image: x₀ = (x − pad) / gain, clipped to [0, width]. Detections use
 * YOLOv5's unrounded half padding, labels the whole-pixel border they were shifted by (val.py's labels were shifted by
 * the unrounded padding and come back exactly; its detections, found on pixels shifted by the rounded border, come back
 * off by up to half a pixel: sladet reproduces both).
 */
export interface NativeFrame {
  /** Size of the original (stored) image. */
  width: number;
  height: number;
  /** YOLOv5's ratio_pad[0][0]: loaded height / original height (one gain for both axes, as scale_boxes). */
  gain: number;
  /**
   * YOLOv5's ratio_pad[1]: half the letterbox padding, unrounded (val.py subtracts dw/2 even when the letterbox put
   * round(dw/2 − 0.1) pixels on the left, e.g. 10.5 for 10).
   */
  padX: number;
  padY: number;
  /** Left and top border the letterbox put around the image (whole pixels; the loader shifted the labels by them). */
  borderX: number;
  borderY: number;
}

/**
 * The native frame of a validation sample: an image stored at `original` size, loaded at `imgSize` (long side) and
 * letterboxed without enlarging into a batch of `inputShape` [height, width] (the validation loader's path).
 */
export function nativeFrame(
  original: { width: number; height: number },
  imgSize: number,
  inputShape: readonly [number, number],
): NativeFrame {
  const loaded = loadedSize(original.width, original.height, imgSize);
  const g = letterboxGeometry(loaded.width, loaded.height, { shape: inputShape, scaleUp: false });
  return {
    width: original.width,
    height: original.height,
    gain: loaded.height / original.height,
    padX: (inputShape[1] - g.newW) / 2,
    padY: (inputShape[0] - g.newH) / 2,
    borderX: g.pad[0],
    borderY: g.pad[1],
  };
}

const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);

/** A copy of `rows` (`stride` numbers each, x1 at `offset`) with boxes shifted by −pad, divided by gain, clipped. */
function mapAndClip(
  rows: ArrayLike<number>,
  frame: NativeFrame,
  stride: number,
  offset: number,
  padX: number,
  padY: number,
): Float64Array {
  const out = Float64Array.from(rows);
  const { gain, width, height } = frame;
  for (let i = offset; i < out.length; i += stride) {
    out[i] = clamp((out[i]! - padX) / gain, width);
    out[i + 1] = clamp((out[i + 1]! - padY) / gain, height);
    out[i + 2] = clamp((out[i + 2]! - padX) / gain, width);
    out[i + 3] = clamp((out[i + 3]! - padY) / gain, height);
  }
  return out;
}

/**
 * Detection rows [x1, y1, x2, y2, conf, cls] of the network input in the original image's pixels, clipped to the
 * image: YOLOv5's scale_boxes (which ends with clip_boxes) with its ratio_pad.
 */
export function detectionsToNative(rows: ArrayLike<number>, frame: NativeFrame): Float64Array {
  return mapAndClip(rows, frame, 6, 0, frame.padX, frame.padY);
}

/** Label rows [cls, x1, y1, x2, y2] of the network input in the original image's pixels, clipped to the image. */
export function labelsToNative(rows: ArrayLike<number>, frame: NativeFrame): Float64Array {
  return mapAndClip(rows, frame, 5, 1, frame.borderX, frame.borderY);
}
