/**
 * The 4-image mosaic (YOLOv5's `load_mosaic`): four images on a 2s × 2s grey canvas around a random centre, one per
 * quadrant, each cropped where it leaves the canvas. Each tile brings its own region mask (a dense tile is all ones),
 * so a mosaic holds up to four labelled regions (design.md §4 decision 5); the canvas outside the tiles is padding
 * (not labelled unless asked). Boxes are shifted with their tile and clipped to the canvas. The random warp that
 * crops the canvas back to s × s is the pipeline's next step.
 */
import type { Rng } from "../../util/random.js";
import { PAD_VALUE } from "./hyp.js";
import { concatLabels, mapBoxes, PADDING_MASK, type RgbImage, type Sample } from "./types.js";

/** Where the four tiles meet, in canvas pixels. */
export interface MosaicCentre {
  xc: number;
  yc: number;
}

/** Draws the mosaic centre uniformly in [s/2, 3s/2) on each axis (YOLOv5's mosaic_border −s/2), as integers. */
export function randomMosaicCentre(rng: Rng, size: number): MosaicCentre {
  const yc = Math.floor(rng.uniform(size / 2, (3 * size) / 2));
  const xc = Math.floor(rng.uniform(size / 2, (3 * size) / 2));
  return { xc, yc };
}

/** Options of {@link mosaic4}. */
export interface MosaicOptions {
  /** Grey of the canvas. @default 114 */
  padValue?: number;
  /** Mask value of the canvas outside the tiles: 1 if true, else PADDING_MASK. @default false */
  paddingLabelled?: boolean;
}

/** A rectangle [x1, x2) × [y1, y2) in integer pixels. */
interface Span {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Canvas area (a) and tile area (b) of quadrant `q` (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right). */
function placement(q: number, w: number, h: number, xc: number, yc: number, s2: number): { a: Span; b: Span } {
  switch (q) {
    case 0: {
      const a = { x1: Math.max(xc - w, 0), y1: Math.max(yc - h, 0), x2: xc, y2: yc };
      return { a, b: { x1: w - (a.x2 - a.x1), y1: h - (a.y2 - a.y1), x2: w, y2: h } };
    }
    case 1: {
      const a = { x1: xc, y1: Math.max(yc - h, 0), x2: Math.min(xc + w, s2), y2: yc };
      return { a, b: { x1: 0, y1: h - (a.y2 - a.y1), x2: Math.min(w, a.x2 - a.x1), y2: h } };
    }
    case 2: {
      const a = { x1: Math.max(xc - w, 0), y1: yc, x2: xc, y2: Math.min(s2, yc + h) };
      return { a, b: { x1: w - (a.x2 - a.x1), y1: 0, x2: w, y2: Math.min(a.y2 - a.y1, h) } };
    }
    default: {
      const a = { x1: xc, y1: yc, x2: Math.min(xc + w, s2), y2: Math.min(s2, yc + h) };
      return { a, b: { x1: 0, y1: 0, x2: Math.min(w, a.x2 - a.x1), y2: Math.min(a.y2 - a.y1, h) } };
    }
  }
}

/** Copies the part `b` of a `w`-wide tile (`channels` bytes a pixel) into the part `a` of an `s2`-wide canvas. */
function pasteTile(
  canvas: Uint8Array,
  s2: number,
  tile: Uint8Array,
  w: number,
  { a, b }: { a: Span; b: Span },
  channels: number,
) {
  const rowW = a.x2 - a.x1;
  for (let y = 0; y < a.y2 - a.y1; y++) {
    const srcRow = (b.y1 + y) * w + b.x1;
    const dstRow = (a.y1 + y) * s2 + a.x1;
    canvas.set(tile.subarray(srcRow * channels, (srcRow + rowW) * channels), dstRow * channels);
  }
}

/**
 * The pixels of {@link mosaic4} alone: four RGB images (each at most `size` on its long side) on a 2·size grey canvas
 * around `centre` (the attribute head's fine view, which carries no mask and no labels, uses it directly).
 */
export function mosaicPixels(
  images: readonly RgbImage[],
  size: number,
  centre: MosaicCentre,
  padValue: number = PAD_VALUE,
): RgbImage {
  if (images.length !== 4) throw new Error(`a mosaic needs 4 images, got ${images.length}`);
  const s2 = 2 * size;
  const data = new Uint8Array(s2 * s2 * 3).fill(padValue);
  images.forEach((tile, q) => {
    pasteTile(data, s2, tile.data, tile.width, placement(q, tile.width, tile.height, centre.xc, centre.yc, s2), 3);
  });
  return { data, width: s2, height: s2 };
}

/**
 * Assembles four samples (each at most `size` on its long side) into a 2·size square canvas around `centre`.
 * Labels come out in canvas pixels, clipped to the canvas (YOLOv5 filters them after the warp).
 */
export function mosaic4(
  tiles: readonly Sample[],
  size: number,
  centre: MosaicCentre,
  options: MosaicOptions = {},
): Sample {
  const image = mosaicPixels(
    tiles.map((t) => t.image),
    size,
    centre,
    options.padValue ?? PAD_VALUE,
  );
  const s2 = 2 * size;
  const mask = new Uint8Array(s2 * s2).fill(options.paddingLabelled ? 1 : PADDING_MASK);
  const numAttributes = tiles[0]!.labels.numAttributes;
  const parts = tiles.map((tile, q) => {
    const { width: w, height: h } = tile.image;
    const place = placement(q, w, h, centre.xc, centre.yc, s2);
    pasteTile(mask, s2, tile.mask.data, w, place, 1);
    const padw = place.a.x1 - place.b.x1;
    const padh = place.a.y1 - place.b.y1;
    const clip = (v: number) => Math.min(Math.max(v, 0), s2);
    return mapBoxes(tile.labels, (x1, y1, x2, y2) => [
      clip(x1 + padw),
      clip(y1 + padh),
      clip(x2 + padw),
      clip(y2 + padh),
    ]);
  });
  return {
    image,
    mask: { data: mask, width: s2, height: s2 },
    labels: concatLabels(parts, numAttributes),
  };
}
