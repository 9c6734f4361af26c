/**
 * The attribute head applied to cells: RoI features of normalised boxes pooled from the detector's p2/p3 taps
 * (design.md §7.3), the box sizes, the head. Shared by training (ground-truth boxes), evaluation and inference
 * (detections).
 */
import type { Tensor } from "../torch/index.js";
import { tidy } from "../torch/index.js";
import { type AttributeHead, type AttributeOutput, attributeValues } from "./attribute-head.js";
import { boxSizes, poolCells } from "./roi-pool.js";

/** Feature taps of the detector the head pools from, in channel order. */
export const ATTRIBUTE_TAPS = ["p2", "p3"] as const;

/**
 * The head's logits for cells.
 * @param maps the tapped maps in ATTRIBUTE_TAPS order (e.g. detached or gradient-scaled in training).
 * @param boxes [K, 5] rows of (image index, x1, y1, x2, y2) normalised to the image.
 */
export function attributeLogits(head: AttributeHead, maps: readonly Tensor[], boxes: Tensor): AttributeOutput {
  return tidy(() => head.forward(poolCells(maps, boxes, { outputSize: head.roiSize }), boxSizes(boxes)));
}

/** Predicted values [K, 7] (int64, label order a0..a6) of cells, from the taps of a forward pass. */
export function predictAttributes(head: AttributeHead, features: Record<string, Tensor>, boxes: Tensor): Tensor {
  const maps = ATTRIBUTE_TAPS.map((t) => {
    const map = features[t];
    if (!map) throw new Error(`predictAttributes: the forward pass did not tap "${t}"`);
    return map;
  });
  return tidy(() => attributeValues(attributeLogits(head, maps, boxes)));
}
