/**
 * The attribute head applied to cells: RoI features of normalised boxes pooled from the maps the head was built on
 * (its taps), the box sizes, the head. Shared by training (ground-truth boxes), evaluation and inference (detections).
 *
 * Taps: the seed's head pools the detector's `p2` and `p3` backbone maps (design.md §7.3); sladet's new heads pool
 * the input image itself (`image`, 3 channels) by default. A small detector's stride-4 maps keep little of what the
 * attributes are made of (chromatin texture, nucleoli, vacuoles a pixel or two across at 320 px); the pixels do.
 */

import type { Tensor } from "../torch/index.js";
import { tidy } from "../torch/index.js";
import { AttributeHead, type AttributeHeadOptions, type AttributeOutput, attributeValues } from "./attribute-head.js";
import { IMAGE_TAP } from "./attribute-io.js";
import { poolCells } from "./roi-pool.js";
import type { YoloModel } from "./yolo.js";

export { IMAGE_TAP };

/**
 * Taps of the heads sladet builds by default: the image alone. Measured on the synthetic films (tiny YOLOv5, 256 px,
 * 40 epochs; BENCHMARKS.md): with the image, 6 of 7 attributes beat the majority baseline's balanced accuracy by
 * 0.10; with the image and p2, p3 only 2 (the detector's maps change under the head at every step); with p2, p3 (the
 * seed's) 2. Other taps: `--attr-taps image,p2,p3` or `p2,p3`.
 */
export const ATTRIBUTE_TAPS: readonly string[] = [IMAGE_TAP];

/** The taps the seed's head pools (its weights need them). */
export const SEED_ATTRIBUTE_TAPS: readonly string[] = ["p2", "p3"];

/** The detector taps a forward pass must return for the head (its taps without the image). */
export function modelTaps(head: AttributeHead): string[] {
  return head.taps.filter((t) => t !== IMAGE_TAP);
}

/** Channels of each tap on `model` (3 for the image). */
export function tapChannels(model: YoloModel, taps: readonly string[]): number[] {
  return taps.map((t) => {
    if (t === IMAGE_TAP) return 3;
    if (!(t in model.taps))
      throw new Error(
        `unknown attribute tap "${t}": ${IMAGE_TAP} or one of the model's (${Object.keys(model.taps).join(", ")})`,
      );
    return model.tapChannels(t);
  });
}

/** A new attribute head pooling `taps` of `model` (their channels read from the model). */
export function newAttributeHead(
  model: YoloModel,
  taps: readonly string[] = ATTRIBUTE_TAPS,
  options: Omit<AttributeHeadOptions, "inChannels" | "taps" | "tapChannels"> = {},
): AttributeHead {
  const channels = tapChannels(model, taps);
  return new AttributeHead({
    ...options,
    inChannels: channels.reduce((a, b) => a + b, 0),
    taps,
    tapChannels: channels,
  });
}

/** The head's input maps in its tap order, from a forward pass's taps and the input images. */
export function headMaps(head: AttributeHead, features: Record<string, Tensor>, images: Tensor): Tensor[] {
  return head.taps.map((t) => {
    const map = t === IMAGE_TAP ? images : features[t];
    if (!map) throw new Error(`attribute head: the forward pass did not tap "${t}"`);
    return map;
  });
}

/**
 * What the image tap pools: the fine view for a head that pools one (AttributeHead.imageScale > 1; the loader's
 * `fineImages`), else `images` (the network input, or the head's weak view of it).
 */
export function imageTapInput(head: AttributeHead, images: Tensor, fineImages: Tensor | undefined): Tensor {
  if (head.imageScale === 1) return images;
  if (!fineImages)
    throw new Error(`the attribute head pools a ${head.imageScale}× fine view of the input, which the batch lacks`);
  return fineImages;
}

/**
 * The head's logits for cells.
 * @param maps the head's input maps in its tap order (see {@link headMaps}; detached or gradient-scaled in training).
 * @param boxes [K, 5] rows of (image index, x1, y1, x2, y2) normalised to the image.
 * @param sizes [K, 2] each cell's (w, h) in pixels of the image as loaded (long side = the network size), divided
 *   by the network size: the same numbers in training (undoing scale augmentation) and in evaluation (rectangular
 *   batches included), whatever the input's shape.
 * @param classes [K] each cell's detected class, for a head with class input (`head.classes` > 0).
 */
export function attributeLogits(
  head: AttributeHead,
  maps: readonly Tensor[],
  boxes: Tensor,
  sizes: Tensor,
  classes?: Tensor,
): AttributeOutput {
  return tidy(() => head.forward(poolCells(maps, boxes, { outputSize: head.roiSize }), sizes, classes));
}

/** Predicted values [K, 7] (int64, label order a0..a6) of cells (arguments as {@link attributeLogits}). */
export function predictAttributes(
  head: AttributeHead,
  maps: readonly Tensor[],
  boxes: Tensor,
  sizes: Tensor,
  classes?: Tensor,
): Tensor {
  return tidy(() => attributeValues(attributeLogits(head, maps, boxes, sizes, classes)));
}
