/**
 * The box of the one white cell in a single-cell crop (PBC's 360×363 May-Grünwald-Giemsa crops, WBCAtt), found by
 * stain colour without any model:
 * 1. a pixel is "white-cell stain" when it is blue/purple (B − G ≥ {@link StainBoxOptions.blueMargin}: nuclei and the
 *    lilac, grey-blue or blue cytoplasm of neutrophils, monocytes, lymphocytes, basophils) or dark (G ≤
 *    {@link StainBoxOptions.darkGreen}: nuclei and an eosinophil's orange granules). Red cells (pink, B ≈ G, G ≈ 160–
 *    190) and the pale background (G ≈ 225) are neither;
 * 2. the stain mask is smoothed (a pixel stays when at least half of its 5×5 window is stain: JPEG noise, granule
 *    gaps) and dilated by 3 px (joins a neutrophil's lobes to its cytoplasm);
 * 3. of the 8-connected components with at least {@link StainBoxOptions.minAreaFraction} of the image (platelets and
 *    specks are smaller), the one containing the centre pixel or, if none does, the nearest to it is the cell;
 * 4. its bounding box (which the dilation already widened by 3 px) is padded by {@link StainBoxOptions.padPx} and
 *    clipped to the image.
 * A crop whose whole field is tinted blue (a batch of PBC's 366×369 crops: background and red cells at B − G ≈ 11–22)
 * gives one component that spans most of it; when the chosen component's box covers at least
 * {@link StainBoxOptions.maxAreaFraction} of the crop, steps 1–3 run again with the blue margin raised to the crop's
 * median B − G (its background) + {@link StainBoxOptions.blueAboveMedian} (for an untinted crop, median ≈ −10, the
 * margin stays 18 and so does the box). A box that still covers {@link StainBoxOptions.stainedCropFraction} of the
 * crop falls back to the central box.
 * When no component is large enough, the box is implausible (a side under {@link StainBoxOptions.minSideFraction}
 * of the image's), the box falls back to the central {@link StainBoxOptions.fallbackFraction} of the crop and the
 * result says so.
 */
import type { RgbImage } from "./bmp.js";
import type { PixelRect } from "./schema.js";

/** Thresholds of {@link findStainBox}; defaults measured on PBC (docs/wbcatt.md). */
export interface StainBoxOptions {
  /** B − G at or above which a pixel is blue/purple stain. @default 18 */
  blueMargin?: number;
  /** Box area (fraction of the image) from which the blue margin is recomputed from the background. @default 0.5 */
  maxAreaFraction?: number;
  /** Box area (fraction of the image) that, after the retry, means the whole crop is stained. @default 0.9 */
  stainedCropFraction?: number;
  /** The retry's blue margin above the crop's median B − G. @default 28 */
  blueAboveMedian?: number;
  /** G at or below which a pixel is dark stain. @default 125 */
  darkGreen?: number;
  /** Side of the smoothing window (odd). @default 5 */
  smoothWindow?: number;
  /** Dilation radius in pixels (a square of side 2r+1). @default 3 */
  dilateRadius?: number;
  /** Smallest component, as a fraction of the image's area. @default 0.005 */
  minAreaFraction?: number;
  /** Padding added on each side of the component's box, pixels. @default 4 */
  padPx?: number;
  /** Smallest plausible box side, as a fraction of the image's side. @default 0.1 */
  minSideFraction?: number;
  /** Side of the central fallback box, as a fraction of the image's side. @default 0.6 */
  fallbackFraction?: number;
}

/** Defaults of {@link StainBoxOptions}. */
export const STAIN_BOX_DEFAULTS: Required<StainBoxOptions> = {
  blueMargin: 18,
  maxAreaFraction: 0.5,
  stainedCropFraction: 0.9,
  blueAboveMedian: 28,
  darkGreen: 125,
  smoothWindow: 5,
  dilateRadius: 3,
  minAreaFraction: 0.005,
  padPx: 4,
  minSideFraction: 0.1,
  fallbackFraction: 0.6,
};

/** Why a crop got the central box: nothing stained, a stained region too small, or the whole crop stained. */
export type StainBoxFallback = "no-stain" | "implausible-box" | "background-stained";

/** Result of {@link findStainBox}. */
export interface StainBox {
  box: PixelRect;
  /** Why the central fallback box was used; absent when the stain was found. */
  fallback?: StainBoxFallback;
}

/** The per-pixel stain indicator (step 1). */
function stainMask(image: RgbImage, o: Required<StainBoxOptions>): Uint8Array {
  const { data, width, height } = image;
  const mask = new Uint8Array(width * height);
  for (let p = 0; p < mask.length; p++) {
    const g = data[3 * p + 1]!;
    const b = data[3 * p + 2]!;
    mask[p] = b - g >= o.blueMargin || g <= o.darkGreen ? 1 : 0;
  }
  return mask;
}

/** Sums of `mask` over (2r+1)-wide windows along rows (`horizontal`) or columns, zero outside the image. */
function windowSums(mask: Uint8Array | Int32Array, width: number, height: number, r: number, horizontal: boolean) {
  const out = new Int32Array(width * height);
  const [lines, length] = horizontal ? [height, width] : [width, height];
  const at = (line: number, i: number) => (horizontal ? line * width + i : i * width + line);
  for (let line = 0; line < lines; line++) {
    let sum = 0;
    for (let i = 0; i < Math.min(r, length); i++) sum += mask[at(line, i)]!;
    for (let i = 0; i < length; i++) {
      if (i + r < length) sum += mask[at(line, i + r)]!;
      if (i - r - 1 >= 0) sum -= mask[at(line, i - r - 1)]!;
      out[at(line, i)] = sum;
    }
  }
  return out;
}

/** Majority smoothing then dilation (step 2). */
function cleanMask(mask: Uint8Array, width: number, height: number, o: Required<StainBoxOptions>): Uint8Array {
  const r = Math.floor(o.smoothWindow / 2);
  const sums = windowSums(windowSums(mask, width, height, r, true), width, height, r, false);
  const window = o.smoothWindow * o.smoothWindow;
  const smooth = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p++) smooth[p] = 2 * sums[p]! >= window ? 1 : 0;
  const d = o.dilateRadius;
  const grown = windowSums(windowSums(smooth, width, height, d, true), width, height, d, false);
  return Uint8Array.from(grown, (n) => (n > 0 ? 1 : 0));
}

/** A connected component: its box (end-exclusive), area and squared distance of its nearest pixel to the centre. */
interface Component {
  rect: PixelRect;
  area: number;
  centreDistance2: number;
}

/** 8-connected components of `mask` (step 3's candidates). */
function components(mask: Uint8Array, width: number, height: number): Component[] {
  const seen = new Uint8Array(mask.length);
  const stack = new Int32Array(mask.length);
  const cx = Math.floor(width / 2);
  const cy = Math.floor(height / 2);
  const found: Component[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    let [x1, y1, x2, y2, area, near] = [width, height, 0, 0, 0, Infinity];
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const p = stack[--top]!;
      const x = p % width;
      const y = (p - x) / width;
      area++;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + 1);
      y2 = Math.max(y2, y + 1);
      near = Math.min(near, (x - cx) ** 2 + (y - cy) ** 2);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (mask[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    found.push({ rect: { x1, y1, x2, y2 }, area, centreDistance2: near });
  }
  return found;
}

/** The central box of a `fraction` of each side. */
export function centralBox(width: number, height: number, fraction: number): PixelRect {
  const w = Math.round(width * fraction);
  const h = Math.round(height * fraction);
  const x1 = Math.floor((width - w) / 2);
  const y1 = Math.floor((height - h) / 2);
  return { x1, y1, x2: x1 + w, y2: y1 + h };
}

/** The median of B − G over the image (its background's tint, the background being most of a crop). */
export function medianBlueOverGreen(image: RgbImage): number {
  const counts = new Int32Array(511);
  const n = image.width * image.height;
  for (let p = 0; p < n; p++) counts[image.data[3 * p + 2]! - image.data[3 * p + 1]! + 255]!++;
  let seen = 0;
  for (let v = 0; v < counts.length; v++) {
    seen += counts[v]!;
    if (2 * seen >= n) return v - 255;
  }
  return 0;
}

/** Steps 1–3: the component taken as the cell, or undefined when none is large enough. */
function nearestComponent(image: RgbImage, o: Required<StainBoxOptions>): Component | undefined {
  const { width, height } = image;
  const mask = cleanMask(stainMask(image, o), width, height, o);
  const minArea = o.minAreaFraction * width * height;
  const candidates = components(mask, width, height).filter((c) => c.area >= minArea);
  if (candidates.length === 0) return undefined;
  return candidates.reduce((best, c) => (c.centreDistance2 < best.centreDistance2 ? c : best));
}

/** Finds the box of the white cell nearest the centre of a single-cell crop (see the module's comment). */
export function findStainBox(image: RgbImage, options: StainBoxOptions = {}): StainBox {
  const o = { ...STAIN_BOX_DEFAULTS, ...options };
  const { width, height } = image;
  const fallback = centralBox(width, height, o.fallbackFraction);
  const boxArea = (c: Component) => ((c.rect.x2 - c.rect.x1) * (c.rect.y2 - c.rect.y1)) / (width * height);
  let cell = nearestComponent(image, o);
  if (cell && boxArea(cell) >= o.maxAreaFraction) {
    const blueMargin = Math.max(o.blueMargin, medianBlueOverGreen(image) + o.blueAboveMedian);
    cell = nearestComponent(image, { ...o, blueMargin });
    if (cell && boxArea(cell) >= o.stainedCropFraction) return { box: fallback, fallback: "background-stained" };
  }
  if (!cell) return { box: fallback, fallback: "no-stain" };
  const { x1, y1, x2, y2 } = cell.rect;
  if (x2 - x1 < o.minSideFraction * width || y2 - y1 < o.minSideFraction * height) {
    return { box: fallback, fallback: "implausible-box" };
  }
  const box = {
    x1: Math.max(0, x1 - o.padPx),
    y1: Math.max(0, y1 - o.padPx),
    x2: Math.min(width, x2 + o.padPx),
    y2: Math.min(height, y2 + o.padPx),
  };
  return { box };
}
