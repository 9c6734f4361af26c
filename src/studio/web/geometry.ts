/** Boxes between label units (normalised centre and size) and pixels, and the hit tests of the canvas. */
import { centreInRegion } from "../../data/region.js";
import type { CellLabel, PixelRect } from "../../data/schema.js";

export interface Size {
  width: number;
  height: number;
}

/** A label's box in image pixels. */
export function labelRect(label: CellLabel, size: Size): PixelRect {
  return {
    x1: (label.xc - label.w / 2) * size.width,
    y1: (label.yc - label.h / 2) * size.height,
    x2: (label.xc + label.w / 2) * size.width,
    y2: (label.yc + label.h / 2) * size.height,
  };
}

/** Sets a label's box from pixels (clipped to the image). */
export function setLabelRect(label: CellLabel, rect: PixelRect, size: Size): void {
  const r = clipRect(rect, size);
  label.xc = (r.x1 + r.x2) / 2 / size.width;
  label.yc = (r.y1 + r.y2) / 2 / size.height;
  label.w = (r.x2 - r.x1) / size.width;
  label.h = (r.y2 - r.y1) / size.height;
}

/** A rectangle with x1 ≤ x2 and y1 ≤ y2 from two corners. */
export function normalizeRect(a: { x: number; y: number }, b: { x: number; y: number }): PixelRect {
  return { x1: Math.min(a.x, b.x), y1: Math.min(a.y, b.y), x2: Math.max(a.x, b.x), y2: Math.max(a.y, b.y) };
}

/** `rect` clipped to the image. */
export function clipRect(rect: PixelRect, size: Size): PixelRect {
  const clip = (v: number, max: number) => Math.min(max, Math.max(0, v));
  return {
    x1: clip(rect.x1, size.width),
    y1: clip(rect.y1, size.height),
    x2: clip(rect.x2, size.width),
    y2: clip(rect.y2, size.height),
  };
}

/** `rect` moved by (dx, dy), kept inside the image without changing its size. */
export function moveRect(rect: PixelRect, dx: number, dy: number, size: Size): PixelRect {
  const w = rect.x2 - rect.x1;
  const h = rect.y2 - rect.y1;
  const x1 = Math.min(size.width - w, Math.max(0, rect.x1 + dx));
  const y1 = Math.min(size.height - h, Math.max(0, rect.y1 + dy));
  return { x1, y1, x2: x1 + w, y2: y1 + h };
}

/** Rounds a rectangle to whole pixels (regions are written as integers; drawn box edges snap to pixels). */
export function roundRect(rect: PixelRect): PixelRect {
  return { x1: Math.round(rect.x1), y1: Math.round(rect.y1), x2: Math.round(rect.x2), y2: Math.round(rect.y2) };
}

/** The eight resize handles: which edges each moves. */
export const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"] as const;
export type Handle = (typeof HANDLES)[number];

/** Where handle `h` of `rect` is. */
export function handlePoint(rect: PixelRect, h: Handle): { x: number; y: number } {
  const x = h.includes("w") ? rect.x1 : h.includes("e") ? rect.x2 : (rect.x1 + rect.x2) / 2;
  const y = h.includes("n") ? rect.y1 : h.includes("s") ? rect.y2 : (rect.y1 + rect.y2) / 2;
  return { x, y };
}

/** `rect` with handle `h` dragged to `p` (sides kept in order). */
export function resizeRect(rect: PixelRect, h: Handle, p: { x: number; y: number }, size: Size): PixelRect {
  const r = { ...rect };
  if (h.includes("w")) r.x1 = p.x;
  if (h.includes("e")) r.x2 = p.x;
  if (h.includes("n")) r.y1 = p.y;
  if (h.includes("s")) r.y2 = p.y;
  return clipRect(normalizeRect({ x: r.x1, y: r.y1 }, { x: r.x2, y: r.y2 }), size);
}

/** The handle of `rect` within `tolerance` image pixels of `p`, if any. */
export function hitHandle(rect: PixelRect, p: { x: number; y: number }, tolerance: number): Handle | null {
  for (const h of HANDLES) {
    const q = handlePoint(rect, h);
    if (Math.abs(q.x - p.x) <= tolerance && Math.abs(q.y - p.y) <= tolerance) return h;
  }
  return null;
}

export function contains(rect: PixelRect, p: { x: number; y: number }): boolean {
  return p.x >= rect.x1 && p.x <= rect.x2 && p.y >= rect.y1 && p.y <= rect.y2;
}

/** True when `p` lies within `tolerance` of the outline of `rect`. */
export function onOutline(rect: PixelRect, p: { x: number; y: number }, tolerance: number): boolean {
  const inside = (r: PixelRect) => contains(r, p);
  const outer = { x1: rect.x1 - tolerance, y1: rect.y1 - tolerance, x2: rect.x2 + tolerance, y2: rect.y2 + tolerance };
  const inner = { x1: rect.x1 + tolerance, y1: rect.y1 + tolerance, x2: rect.x2 - tolerance, y2: rect.y2 - tolerance };
  return inside(outer) && !(inner.x1 < inner.x2 && inner.y1 < inner.y2 && inside(inner));
}

/** True when the label's centre lies inside `region` (`sladet check`'s rule, src/data/region.ts); true without one. */
export function centreInside(label: CellLabel, region: PixelRect | null, size: Size): boolean {
  return region === null || centreInRegion(label, region, size);
}

/** Intersection over union of two rectangles. */
export function iou(a: PixelRect, b: PixelRect): number {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}
