/**
 * The training batch as tensors (design.md §7.1), made on the main thread from a worker's {@link RawBatch}:
 * `images` float32 [B,3,H,W] RGB 0..1, `targets` float32 [N,6+K] (image index, class, xc, yc, w, h normalised to the
 * network input, a0..aK−1 with −1 unknown; [N,13] for LLD), `regionMask` uint8 [B,1,H,W] (1 = labelled),
 * `imageMask` uint8 [B,1,H,W] (0 = padding, where augmentation left no image).
 */
import { type Tensor, tensor, tidy } from "../torch/index.js";
import { PADDING_MASK } from "./augment/types.js";
import type { RawBatch } from "./raw-batch.js";
import { TARGET_BOX_FIELDS } from "./raw-batch.js";
import type { LoaderItem } from "./sample-source.js";

/** A batch of tensors; it owns them until {@link Batch.dispose}. */
export interface Batch {
  images: Tensor;
  targets: Tensor;
  regionMask: Tensor;
  /** 1 where the images hold image, 0 on padding (Mask's PADDING_MASK): no object can be centred there. */
  imageMask: Tensor;
  /**
   * Per target row, how much augmentation scaled the object since it was loaded (1 in validation; s after a random
   * affine of scale s): the attribute head divides box sizes by it (Cell Size is an absolute size).
   */
  targetScales: Float32Array;
  /**
   * Held-out objects (outside the labelled region, from the dataset's `heldout_labels`) after augmentation: [M, 6]
   * rows of image index, class, xc, yc, w, h like `targets`. For measuring pseudo-labels only; empty when unknown.
   */
  heldout: Float32Array;
  /**
   * The weak view [B,3,H,W] when the loader makes it (LoaderOptions.weakHsv): the images with a fraction of their
   * colour jitter, for the attribute head (attr_hsv) and phase 2's teacher (pl_teacher_hsv); absent = they read
   * `images`.
   */
  weakImages?: Tensor;
  /**
   * The fine view [B,3,k·H,k·W] when the loader makes it (LoaderOptions.fine): the images at k× the pixels, the same
   * geometry, for the attribute head (hyp attr_image_scale); absent = the head reads `images` or `weakImages`.
   */
  fineImages?: Tensor;
  /** Position in the epoch. */
  batchIndex: number;
  /** Dataset index and image path of each image, in batch order. */
  indices: number[];
  files: string[];
  /** [height, width] of the images. */
  shape: [number, number];
  /** Frees the tensors. */
  dispose(): void;
}

/** Wraps a raw batch's buffers in tensors (one copy into libtorch memory each; the images scaled to 0..1 there). */
export function toBatch(raw: RawBatch, items: readonly { image: string }[] | readonly LoaderItem[]): Batch {
  const { size: B, height: H, width: W } = raw;
  const images = pixelsToUnit(raw.images, [B, 3, H, W]);
  const targets = tensor(raw.targets, [raw.numTargets, TARGET_BOX_FIELDS + raw.numAttributes]);
  const { regionMask, imageMask } = tidy(() => {
    const codes = tensor(raw.masks, [B, 1, H, W]);
    return { regionMask: codes.eq(1).to("uint8"), imageMask: codes.ne(PADDING_MASK).to("uint8") };
  });
  const weakImages = raw.weakImages ? pixelsToUnit(raw.weakImages, [B, 3, H, W]) : undefined;
  const k = raw.fineScale ?? 1;
  const fineImages = raw.fineImages ? pixelsToUnit(raw.fineImages, [B, 3, k * H, k * W]) : undefined;
  return {
    images,
    targets,
    regionMask,
    imageMask,
    ...(weakImages ? { weakImages } : {}),
    ...(fineImages ? { fineImages } : {}),
    targetScales: raw.targetScales,
    heldout: raw.heldout,
    batchIndex: raw.batchIndex,
    indices: raw.indices,
    files: raw.indices.map((i) => items[i]?.image ?? ""),
    shape: [H, W],
    dispose() {
      images.dispose();
      targets.dispose();
      regionMask.dispose();
      imageMask.dispose();
      weakImages?.dispose();
      fineImages?.dispose();
    },
  };
}

/** uint8 pixels as a float32 tensor in 0..1 (YOLOv5's `imgs.float() / 255`). */
function pixelsToUnit(pixels: Uint8Array, shape: number[]): Tensor {
  return tidy(() => tensor(pixels, shape).float().div(255));
}
