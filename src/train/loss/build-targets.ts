/**
 * YOLOv5's build_targets: assigns each ground-truth box to anchors and grid cells of every level. A box matches an
 * anchor when both width and height ratios are below anchor_t; besides the cell holding its centre it also claims
 * the two neighbouring cells nearest to the centre (offset g = 0.5), so each match yields up to 3 positives.
 */
import { cat, ones, stack, type Tensor, tensor, zerosLike } from "../../torch/index.js";

/** Neighbour-cell offset threshold (YOLOv5's g). */
export const NEIGHBOUR_OFFSET = 0.5;

/** Offsets of the centre cell and its 4 neighbours (×g): centre, left, up, right, down. */
const OFFSETS = [
  [0, 0],
  [1, 0],
  [0, 1],
  [-1, 0],
  [0, -1],
] as const;

/** Positives of one level: image, anchor, grid row, grid column (int64, [n] each), and their targets. */
export interface LevelTargets {
  b: Tensor;
  a: Tensor;
  gj: Tensor;
  gi: Tensor;
  /** Class ids, int64 [n]. */
  tcls: Tensor;
  /** Box targets [n, 4]: centre offset within the cell (x, y) and size (w, h), in grid units. */
  tbox: Tensor;
  /** Matched anchors [n, 2] in grid units. */
  anchors: Tensor;
  /** Row of `targets` each positive comes from, int64 [n] (per-target weights, e.g. soft pseudo-labels). */
  target: Tensor;
}

/**
 * @param shapes per level, the raw map's shape [B, na, H, W, no]
 * @param targets [nt, 6]: image, class, xc, yc, w, h (normalised)
 * @param anchors [nl, na, 2] in grid units of each level
 */
export function buildTargets(
  shapes: ReadonlyArray<readonly number[]>,
  targets: Tensor,
  anchors: Tensor,
  anchorT: number,
): LevelTargets[] {
  const na = anchors.size(1);
  const nt = targets.size(0);
  const ai = tensor(
    Array.from({ length: na }, (_, k) => k),
    [na, 1, 1],
  ).expand(na, nt, 1);
  const ti = tensor(
    Array.from({ length: nt }, (_, k) => k),
    [1, nt, 1],
  ).expand(na, nt, 1);
  const tAll = cat([targets.unsqueeze(0).expand(na, nt, 6), ai, ti], 2); // [na, nt, 8]: …, anchor index, target row
  const off = tensor(OFFSETS.map(([x, y]) => [x * NEIGHBOUR_OFFSET, y * NEIGHBOUR_OFFSET]));
  return shapes.map((shape, level) => {
    const [h, w] = [shape[2]!, shape[3]!];
    const levelAnchors = anchors.select(0, level); // [na, 2]
    const gain = tensor([1, 1, w, h, w, h, 1, 1]);
    let t = tAll.mul(gain);
    let offsets: Tensor | number = 0;
    if (nt > 0) {
      const r = t.slice(2, 4, 6).div(levelAnchors.unsqueeze(1));
      const match = r.maximum(r.reciprocal()).amax(2).lt(anchorT); // [na, nt]
      t = t.index(match);
      const gxy = t.slice(1, 2, 4);
      const gxi = tensor([w, h]).sub(gxy);
      const near = gxy.remainder(1).lt(NEIGHBOUR_OFFSET).logicalAnd(gxy.gt(1)); // left / up neighbours
      const far = gxi.remainder(1).lt(NEIGHBOUR_OFFSET).logicalAnd(gxi.gt(1)); // right / down neighbours
      const centre = ones([near.size(0)], { dtype: "bool" });
      const take = stack([centre, near.select(1, 0), near.select(1, 1), far.select(1, 0), far.select(1, 1)]);
      t = t.unsqueeze(0).expand(5, t.size(0), 8).index(take);
      offsets = zerosLike(gxy).unsqueeze(0).add(off.unsqueeze(1)).index(take);
    } else {
      t = t.select(0, 0);
    }
    const b = t.select(1, 0).long();
    const c = t.select(1, 1).long();
    const gxy = t.slice(1, 2, 4);
    const gwh = t.slice(1, 4, 6);
    const a = t.select(1, 6).long();
    const gij = gxy.sub(offsets).long();
    const gi = gij.select(1, 0).clamp(0, w - 1);
    const gj = gij.select(1, 1).clamp(0, h - 1);
    return {
      b,
      a,
      gj,
      gi,
      tcls: c,
      tbox: cat([gxy.sub(stack([gi, gj], 1)), gwh], 1),
      anchors: levelAnchors.indexSelect(0, a),
      target: t.select(1, 7).long(),
    };
  });
}
