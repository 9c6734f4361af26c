/** Defaults shared by every command that feeds images to the network (torch-free: the CLI shows them in --help). */

/** Network input size in pixels (the long side of each image after letterboxing): YOLOv5's 640. */
export const DEFAULT_IMG_SIZE = 640;

/**
 * Largest factor of the attribute head's fine view (src/data/augment/fine-view.ts; hyp attr_image_scale): 4× the
 * network input's side is 16× its pixels in every batch.
 */
export const MAX_FINE_SCALE = 4;

/** True when `k` is a fine-view factor: a whole number from 1 (no fine view) to {@link MAX_FINE_SCALE}. */
export function isFineScale(k: unknown): k is number {
  return Number.isInteger(k) && (k as number) >= 1 && (k as number) <= MAX_FINE_SCALE;
}
