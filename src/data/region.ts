/**
 * The labelled region (LR) of an image: one rectangle per image in pixels of the stored image (design.md §4 decision 2).
 * Label files may write its four numbers in two orders and two units; these helpers convert and compare.
 */
import type { CellLabel, PixelRect } from "./schema.js";

/** Orders in which a label line writes the region's four numbers (the seed's code reads x1 y1 x2 y2). */
export const REGION_ORDERS = ["x1y1x2y2", "x1x2y1y2"] as const;
export type RegionOrder = (typeof REGION_ORDERS)[number];

/** Units of the region's numbers: absolute pixels of the stored image (the seed's) or fractions of its size. */
export const REGION_UNITS = ["px", "norm"] as const;
export type RegionUnits = (typeof REGION_UNITS)[number];

/** Width and height of a stored image in pixels. */
export interface ImageSize {
  width: number;
  height: number;
}

/** Reads four numbers written in `order` as a rectangle (same units as the numbers). */
export function rectFromNumbers(values: readonly number[], order: RegionOrder): PixelRect {
  const [a = 0, b = 0, c = 0, d = 0] = values;
  return order === "x1y1x2y2" ? { x1: a, y1: b, x2: c, y2: d } : { x1: a, x2: b, y1: c, y2: d };
}

/** The four numbers of `rect` in `order`. */
export function rectToNumbers(rect: PixelRect, order: RegionOrder): [number, number, number, number] {
  return order === "x1y1x2y2" ? [rect.x1, rect.y1, rect.x2, rect.y2] : [rect.x1, rect.x2, rect.y1, rect.y2];
}

/** Converts a rectangle given in fractions of the image to pixels. */
export function normToPixels(rect: PixelRect, size: ImageSize): PixelRect {
  return { x1: rect.x1 * size.width, y1: rect.y1 * size.height, x2: rect.x2 * size.width, y2: rect.y2 * size.height };
}

/** Converts a rectangle in pixels to fractions of the image. */
export function pixelsToNorm(rect: PixelRect, size: ImageSize): PixelRect {
  return { x1: rect.x1 / size.width, y1: rect.y1 / size.height, x2: rect.x2 / size.width, y2: rect.y2 / size.height };
}

/** True when two rectangles agree to within `tolerance` on every side. */
export function regionsEqual(a: PixelRect, b: PixelRect, tolerance = 1e-3): boolean {
  return (
    Math.abs(a.x1 - b.x1) <= tolerance &&
    Math.abs(a.y1 - b.y1) <= tolerance &&
    Math.abs(a.x2 - b.x2) <= tolerance &&
    Math.abs(a.y2 - b.y2) <= tolerance
  );
}

/** True when the centre of `label` (normalised) lies inside `region` (pixels), edges included, ± `tolerance` px. */
export function centreInRegion(label: CellLabel, region: PixelRect, size: ImageSize, tolerance = 0.5): boolean {
  const cx = label.xc * size.width;
  const cy = label.yc * size.height;
  return (
    cx >= region.x1 - tolerance &&
    cx <= region.x2 + tolerance &&
    cy >= region.y1 - tolerance &&
    cy <= region.y2 + tolerance
  );
}

/** The whole image as a region. */
export function fullImageRegion(size: ImageSize): PixelRect {
  return { x1: 0, y1: 0, x2: size.width, y2: size.height };
}

/** Fraction of the image covered by `region` (1 for a dense image, region null). */
export function labelledAreaFraction(region: PixelRect | null, size: ImageSize): number {
  if (region === null) return 1;
  const w = Math.max(0, Math.min(region.x2, size.width) - Math.max(region.x1, 0));
  const h = Math.max(0, Math.min(region.y2, size.height) - Math.max(region.y1, 0));
  return (w * h) / (size.width * size.height);
}

/** Formats a rectangle for messages: "x1 y1 x2 y2 = 10 20 110 220". */
export function describeRect(rect: PixelRect): string {
  return `x1 y1 x2 y2 = ${rect.x1} ${rect.y1} ${rect.x2} ${rect.y2}`;
}

/** True when an image is sparsely labelled: it has a region that does not cover the whole image. */
export function isSparse(item: ImageSize & { region: PixelRect | null }): boolean {
  return item.region !== null && labelledAreaFraction(item.region, item) < 1;
}
