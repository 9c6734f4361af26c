/**
 * The cell-in-region rule (design.md §7.2), shared by the loss, pseudo-label exclusion and sparse-safe evaluation:
 * a grid cell of stride s is labelled when the mean of the region mask over its s×s pixels is ≥ 0.5; a ground-truth
 * box is labelled when the mask is 1 at its centre pixel.
 */
import { F, type Tensor, zeros } from "../../torch/index.js";

/** Fraction of a cell's pixels that must be labelled for the cell to count as labelled. */
export const CELL_LABELLED_FRACTION = 0.5;

/** Labelled cells of a level: bool [B, 1, H/s, W/s] from the uint8 mask [B, 1, H, W]. */
export function labelledCells(regionMask: Tensor, stride: number): Tensor {
  const [, , h, w] = regionMask.shape as [number, number, number, number];
  if (h % stride !== 0 || w % stride !== 0) {
    throw new Error(`region mask ${h}×${w} is not a multiple of stride ${stride}`);
  }
  return F.avgPool2d(regionMask.float(), stride).ge(CELL_LABELLED_FRACTION);
}

/** Which targets ([N, ≥6]: image, class, xc, yc, w, h normalised) have their centre in the labelled region: bool [N]. */
export function labelledTargets(targets: Tensor, regionMask: Tensor): Tensor {
  if (targets.size(0) === 0) return zeros([0], { dtype: "bool" });
  const [, , h, w] = regionMask.shape as [number, number, number, number];
  const b = targets.select(1, 0).long();
  const px = targets
    .select(1, 2)
    .mul(w)
    .long()
    .clamp(0, w - 1);
  const py = targets
    .select(1, 3)
    .mul(h)
    .long()
    .clamp(0, h - 1);
  return regionMask.select(1, 0).index(b, py, px).gt(0);
}
