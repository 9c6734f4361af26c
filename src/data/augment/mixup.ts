/**
 * MixUp (YOLOv5's `mixup`): blend two samples of the same size with a ratio r ~ Beta(32, 32) and keep the boxes of
 * both.
 *
 * The region mask of the blend is the INTERSECTION of the two masks. A mask value of 1 promises that every object
 * visible at that pixel is annotated, so that the loss may train "no box here" as background. In the blend, a pixel
 * shows the objects of both images; where one image is labelled and the other is not, the unlabelled image's cells
 * are visible (at roughly half opacity) but absent from the targets, so only pixels labelled in both images keep the
 * promise. A union would teach those ghost cells as background, the very error sparse-label training must avoid.
 * Consequence: a box of either image may have its centre where the blended mask is 0; it is still a real, annotated
 * object, so losses should treat every target as a positive and use the mask only to decide where background
 * (negative) supervision is allowed.
 */
import type { Rng } from "../../util/random.js";
import { MIXUP_BETA } from "./hyp.js";
import { beta } from "./seed.js";
import { concatLabels, type RgbImage, type Sample } from "./types.js";

/** Draws mixup's blending ratio r ~ Beta(32, 32). */
export function randomMixupRatio(rng: Rng): number {
  return beta(rng, MIXUP_BETA, MIXUP_BETA);
}

/** Blends `a` (weight `ratio`) with `b` (weight 1 − ratio); masks intersected, labels concatenated. */
export function mixup(a: Sample, b: Sample, ratio: number): Sample {
  const { width, height } = a.image;
  const mask = new Uint8Array(a.mask.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = a.mask.data[i]! & b.mask.data[i]!;
  const fine = a.fineImage && b.fineImage ? { fineImage: blend(a.fineImage, b.fineImage, ratio) } : {};
  return {
    image: blend(a.image, b.image, ratio),
    mask: { data: mask, width, height },
    labels: concatLabels([a.labels, b.labels], a.labels.numAttributes),
    ...fine,
  };
}

/** a·ratio + b·(1 − ratio), truncated to uint8 as YOLOv5 casts the blend. */
function blend(a: RgbImage, b: RgbImage, ratio: number): RgbImage {
  const { width, height } = a;
  if (b.width !== width || b.height !== height) {
    throw new Error(`mixup of a ${width}×${height} and a ${b.width}×${b.height} image`);
  }
  const image = new Uint8Array(a.data.length);
  const da = a.data;
  const db = b.data;
  const rb = 1 - ratio;
  for (let i = 0; i < image.length; i++) image[i] = Math.floor(da[i]! * ratio + db[i]! * rb);
  return { data: image, width, height };
}
