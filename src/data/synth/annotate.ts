/**
 * Labels of a synthetic image: a box per white cell (the outline's box, clipped to the image) and, for sparse
 * annotation, a random labelled region: only cells whose box centre lies inside it are labelled, like the real LLD's
 * training images (design.md §7.2: a box is labelled when the region holds its centre).
 */
import type { CellLabel, ImageAnnotation, PixelRect } from "../schema.js";
import { Rng, Stream } from "./rng.js";
import type { Scene, WhiteCell } from "./scene.js";
import type { Box } from "./shapes.js";

/** Range of the labelled region's aspect ratio (width / height), drawn log-uniformly. */
const REGION_ASPECT: readonly [number, number] = [0.5, 2];

/** The box of a cell's outline clipped to the image, in pixels. */
export function cellBox(cell: WhiteCell, width: number, height: number): Box {
  const b = cell.outlineBox;
  return {
    x1: Math.max(0, b.x1),
    y1: Math.max(0, b.y1),
    x2: Math.min(width, b.x2),
    y2: Math.min(height, b.y2),
  };
}

/** The YOLO-normalised label of a cell. */
export function cellLabel(cell: WhiteCell, width: number, height: number): CellLabel {
  const b = cellBox(cell, width, height);
  return {
    cls: cell.cls,
    xc: (b.x1 + b.x2) / 2 / width,
    yc: (b.y1 + b.y2) / 2 / height,
    w: (b.x2 - b.x1) / width,
    h: (b.y2 - b.y1) / height,
    attributes: [...cell.labelAttributes],
  };
}

/** True when the region holds the centre of label `l` (end-exclusive, in pixels of a width × height image). */
export function regionHoldsCentre(region: PixelRect, l: CellLabel, width: number, height: number): boolean {
  const x = l.xc * width;
  const y = l.yc * height;
  return x >= region.x1 && x < region.x2 && y >= region.y1 && y < region.y2;
}

/**
 * A random labelled region covering `area` (fraction in (0, 1]) of a width × height image, in integer pixels, drawn
 * from the image's own region stream so that it does not change the image's pixels.
 */
export function drawRegion(seed: number, index: number, area: number, width: number, height: number): PixelRect {
  const rng = Rng.forImage(seed, index, Stream.region);
  const aspect = Math.exp(rng.range(Math.log(REGION_ASPECT[0]), Math.log(REGION_ASPECT[1])));
  const pixels = area * width * height;
  let w = Math.sqrt(pixels * aspect);
  let h = pixels / w;
  if (w > width) {
    w = width;
    h = Math.min(height, pixels / w);
  }
  if (h > height) {
    h = height;
    w = Math.min(width, pixels / h);
  }
  const rw = Math.max(1, Math.min(width, Math.round(w)));
  const rh = Math.max(1, Math.min(height, Math.round(h)));
  const x1 = rng.int(0, width - rw);
  const y1 = rng.int(0, height - rh);
  return { x1, y1, x2: x1 + rw, y2: y1 + rh };
}

/**
 * The annotation of a scene: every cell when `region` is null, else only cells whose centre the region holds (the
 * others are `heldout`).
 */
export function annotateScene(scene: Scene, image: string, region: PixelRect | null): ImageAnnotation {
  const { width, height } = scene;
  const all = scene.whiteCells.map((c) => cellLabel(c, width, height));
  if (!region) return { image, width, height, region, labels: all };
  const inside = all.map((l) => regionHoldsCentre(region, l, width, height));
  const labels = all.filter((_, i) => inside[i]);
  return { image, width, height, region, labels, heldout: all.filter((_, i) => !inside[i]) };
}
