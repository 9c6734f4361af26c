/**
 * The network input size (`imgsz`): its documented upper limit and YOLOv5's check_img_size (a size that is not a
 * multiple of the model's largest stride is rounded up, with a warning). docs/input-contract.md lists the limit.
 */
import { OptionError } from "../util/errors.js";

/**
 * Largest network input side in pixels. One 8192² float32 input is 768 MiB and the first convolutions' activations
 * several GiB: a larger value would fail after minutes with an allocation failure, so it is refused up front.
 */
export const MAX_IMG_SIZE = 8192;

/** Throws an {@link OptionError} unless `imgsz` (when given) is an integer in [1, {@link MAX_IMG_SIZE}]. */
export function checkImgSizeRange(imgsz: number | undefined, option = "imgsz"): void {
  if (imgsz === undefined) return;
  if (!(Number.isInteger(imgsz) && imgsz >= 1 && imgsz <= MAX_IMG_SIZE))
    throw new OptionError(option, `${imgsz} must be an integer in [1, ${MAX_IMG_SIZE}] pixels`);
}

/** Result of {@link checkImgSize}. */
export interface ImgSizeCheck {
  /** The size used: a multiple of the stride, at least the floor. */
  imgsz: number;
  /** Set when the size was changed: what and why (YOLOv5 prints the same warning). */
  warning?: string;
}

/**
 * YOLOv5's `check_img_size`: `imgsz` rounded up to a multiple of `stride`, and at least `floor`. The result is still
 * capped by {@link MAX_IMG_SIZE}'s check, which the caller runs first.
 */
export function checkImgSize(imgsz: number, stride: number, floor = 0): ImgSizeCheck {
  const rounded = Math.max(Math.ceil(imgsz / stride) * stride, floor);
  if (rounded === imgsz) return { imgsz };
  return {
    imgsz: rounded,
    warning: `warning: image size ${imgsz} must be a multiple of the model's largest stride ${stride}, updating to ${rounded}`,
  };
}
