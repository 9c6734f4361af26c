/**
 * Anti-aliased raster primitives on an RGB image (3 bytes per pixel, in place): filled and stroked rectangles whose
 * edge pixels are blended by the area they cover (as librsvg antialiases), alpha masks blended in a colour, and the
 * one parser of the `#rrggbb` colours they are given.
 */
import type { RgbImage } from "../data/images.js";

/** A colour as [r, g, b] bytes. */
export type Rgb = readonly [number, number, number];

/** An 8-bit coverage mask (0 = transparent, 255 = opaque), row-major. */
export interface AlphaMask {
  width: number;
  height: number;
  alpha: Uint8Array;
}

/** Offsets of the red, green and blue hex digit pairs in `#rrggbb`. */
const HEX_CHANNEL_OFFSETS = [1, 3, 5] as const;

/** The bytes of a `#rrggbb` colour. */
export function parseHexColour(hex: string): Rgb {
  const [r, g, b] = HEX_CHANNEL_OFFSETS.map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return [r!, g!, b!];
}

/** Relative luminance (Rec. 709 weights on the 0–1 channel values, not linearised) of a colour. */
export function luminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((v) => v / 255) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Coverage of the pixel columns (or rows) `start`, `start + 1`, … by an interval: 0–1 each. */
interface Coverage {
  start: number;
  cover: Float64Array;
}

/** How much of each pixel column (or row) i ∈ [start, start + cover.length) the interval [a, b) covers, clipped to [0, n). */
function coverage(a: number, b: number, n: number): Coverage {
  const start = Math.max(0, Math.floor(a));
  const end = Math.min(n, Math.ceil(b));
  const cover = new Float64Array(Math.max(0, end - start));
  for (let i = start; i < end; i++) cover[i - start] = Math.max(0, Math.min(b, i + 1) - Math.max(a, i));
  return { start, cover };
}

/** Blends `rgb` with opacity `a` (0–1) into the pixel at byte offset `o`. */
function blend(data: Uint8Array, o: number, rgb: Rgb, a: number): void {
  data[o] = Math.round(data[o]! + (rgb[0] - data[o]!) * a);
  data[o + 1] = Math.round(data[o + 1]! + (rgb[1] - data[o + 1]!) * a);
  data[o + 2] = Math.round(data[o + 2]! + (rgb[2] - data[o + 2]!) * a);
}

/** Fills the rectangle [x0, x1) × [y0, y1), edge pixels by the area they cover (as librsvg antialiases). */
export function fillRect(image: RgbImage, x0: number, y0: number, x1: number, y1: number, rgb: Rgb): void {
  const cx = coverage(x0, x1, image.width);
  const cy = coverage(y0, y1, image.height);
  const [r, g, b] = rgb;
  const data = image.data;
  for (let j = 0; j < cy.cover.length; j++)
    for (let i = 0; i < cx.cover.length; i++) {
      const a = cx.cover[i]! * cy.cover[j]!;
      const o = ((cy.start + j) * image.width + cx.start + i) * 3;
      if (a >= 1) {
        data[o] = r;
        data[o + 1] = g;
        data[o + 2] = b;
      } else if (a > 0) blend(data, o, rgb, a);
    }
}

/**
 * Strokes the rectangle with corners (x0, y0), (x1, y1) by a line of width `lw` centred on its edges (SVG's stroke with
 * mitred corners): the ring between the outer and the inner rectangle, each pixel by the area of the ring it covers.
 */
export function strokeRect(
  image: RgbImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  lw: number,
  rgb: Rgb,
): void {
  const h = lw / 2;
  const ox = coverage(x0 - h, x1 + h, image.width);
  const oy = coverage(y0 - h, y1 + h, image.height);
  const hollow = x1 - x0 > lw && y1 - y0 > lw;
  const ix = coverage(x0 + h, hollow ? x1 - h : x0 + h, image.width);
  const iy = coverage(y0 + h, hollow ? y1 - h : y0 + h, image.height);
  const at = (c: Coverage, i: number) => c.cover[i - c.start] ?? 0;
  // columns fully inside the inner rectangle: the ring covers them only on rows the inner one does not fill
  const fullFrom = Math.max(0, Math.ceil(x0 + h));
  const fullTo = Math.min(image.width, Math.floor(x1 - h));
  for (let y = oy.start; y < oy.start + oy.cover.length; y++) {
    const o = at(oy, y);
    const inner = at(iy, y);
    const row = y * image.width;
    for (let x = ox.start; x < ox.start + ox.cover.length; x++) {
      if (hollow && x === fullFrom && fullTo > fullFrom) {
        if (o - inner > 0) for (let m = fullFrom; m < fullTo; m++) blend(image.data, (row + m) * 3, rgb, o - inner);
        x = fullTo - 1;
        continue;
      }
      const a = at(ox, x) * o - at(ix, x) * inner;
      if (a > 0) blend(image.data, (row + x) * 3, rgb, a);
    }
  }
}

/** Blends `mask` with its top-left at the integer pixel (x, y) in `rgb`, its coverage scaled by `opacity`; clipped. */
export function blendMask(image: RgbImage, mask: AlphaMask, x: number, y: number, rgb: Rgb, opacity: number): void {
  const { data, width, height } = image;
  const c0 = Math.max(0, -x);
  const c1 = Math.min(mask.width, width - x);
  const r0 = Math.max(0, -y);
  const r1 = Math.min(mask.height, height - y);
  const scale = opacity / 255;
  for (let r = r0; r < r1; r++) {
    const src = r * mask.width;
    const dst = ((y + r) * width + x) * 3;
    for (let c = c0; c < c1; c++) {
      const a = mask.alpha[src + c]!;
      if (a > 0) blend(data, dst + c * 3, rgb, a * scale);
    }
  }
}
