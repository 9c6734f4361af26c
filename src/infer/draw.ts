/**
 * Annotated images of `sladet detect`: the label layout and the drawing of the boxes and labels straight into the
 * decoded RGB pixels at the original resolution, then one encode. Boxes in a colour per class ({@link classColour}),
 * labelled with the class, the confidence and the attribute code (./attribute-code.ts); outlines and label backgrounds
 * antialiased by the area each pixel covers (./raster.ts), the text blended in from the label font's glyph masks
 * (./glyph-atlas.ts). The result matches the SVG overlay this module rendered with librsvg before
 * (test/infer/draw.test.ts compares against its goldens) at a fraction of the time (librsvg took ~0.3 ms per label line).
 */
import sharp from "sharp";
import type { RgbImage } from "../data/images.js";
import { classColour } from "../data/schema.js";
import type { CodePart } from "./attribute-code.js";
import { type GlyphAtlas, glyphAtlas, glyphMasks, MONO_ADVANCE } from "./glyph-atlas.js";
import { blendMask, fillRect, luminance, parseHexColour, type Rgb, strokeRect } from "./raster.js";

/** Line width = this fraction of the image's mean side (at least {@link MIN_LINE_WIDTH}), as YOLOv5 draws. */
export const LINE_WIDTH_FRACTION = 0.003;
/** Thinnest default box line, in pixels. */
export const MIN_LINE_WIDTH = 2;
/** Label font size in pixels per pixel of line width. */
export const FONT_PER_LINE_WIDTH = 6;
/** Smallest label font size in pixels (legible on small images). */
export const MIN_FONT_SIZE = 11;
/** Label line height, as a fraction of the font size. */
const LINE_HEIGHT = 1.2;
/** Label padding (left, right, below the last line; half of it above the first), as a fraction of the font size. */
const LABEL_PADDING = 0.25;
/** JPEG quality of annotated images. */
export const ANNOTATED_JPEG_QUALITY = 90;
/** Opacity of the letters of uncertain attribute values. */
export const UNCERTAIN_OPACITY = 0.45;
/** Relative luminance above which a label's text is black instead of white. */
const LIGHT_BACKGROUND = 0.55;
/** Label text on a light background. */
const DARK_INK: Rgb = [0, 0, 0];
/** Label text on a dark background. */
const LIGHT_INK: Rgb = [255, 255, 255];

/** The text colour readable on `background`. */
function textColour(background: Rgb): Rgb {
  return luminance(background) > LIGHT_BACKGROUND ? DARK_INK : LIGHT_INK;
}

/** One cell to draw, in original-image pixels. */
export interface DrawnCell {
  box: readonly [number, number, number, number];
  cls: number;
  confidence: number;
  /** The attribute code (attributeCodeParts); absent = not drawn. */
  code?: readonly CodePart[];
}

/** Options of {@link drawCells} and {@link drawAnnotated}. */
export interface DrawOptions {
  /** Box line width in pixels. @default max(round(mean side × 0.003), 2) */
  lineThickness?: number;
  /** No labels at all (boxes only). @default false */
  hideLabels?: boolean;
  /** No confidence in the labels. @default false */
  hideConf?: boolean;
  /** No attribute codes in the labels. @default false */
  hideAttrs?: boolean;
}

/** The default line width for an image of this size. */
export function defaultLineWidth(width: number, height: number): number {
  return Math.max(Math.round(((width + height) / 2) * LINE_WIDTH_FRACTION), MIN_LINE_WIDTH);
}

/** The label's lines of a cell, each as parts. */
export function labelLines(cell: DrawnCell, names: readonly string[], options: DrawOptions = {}): CodePart[][] {
  if (options.hideLabels) return [];
  const name = names[cell.cls] ?? String(cell.cls);
  const lines = [[{ text: options.hideConf ? name : `${name} ${cell.confidence.toFixed(2)}`, uncertain: false }]];
  if (cell.code && !options.hideAttrs) lines.push([...cell.code]);
  return lines;
}

/** The width of a line in characters. */
function lineLength(line: readonly CodePart[]): number {
  return line.reduce((n, p) => n + [...p.text].length, 0);
}

/**
 * Draws a label line with its pen starting at (x, baseline), each glyph from the atlas's raster nearest its position;
 * faded parts at {@link UNCERTAIN_OPACITY}.
 */
function drawLine(
  image: RgbImage,
  atlas: GlyphAtlas,
  line: readonly CodePart[],
  x: number,
  baseline: number,
  rgb: Rgb,
): void {
  const advance = atlas.fontSize * MONO_ADVANCE;
  const phases = atlas.phases;
  const ty = Math.round(baseline * phases);
  const yi = Math.floor(ty / phases);
  const py = ty - yi * phases;
  let k = 0;
  for (const part of line) {
    const opacity = part.uncertain ? UNCERTAIN_OPACITY : 1;
    for (const ch of part.text) {
      const masks = glyphMasks(atlas, ch);
      if (masks) {
        const tx = Math.round((x + k * advance) * phases);
        const xi = Math.floor(tx / phases);
        const g = masks[py * phases + tx - xi * phases]!;
        if (g.width > 0) blendMask(image, g, xi + g.dx, yi + g.dy, rgb, opacity);
      }
      k++;
    }
  }
}

/** Box line width, label font size, line height and padding (pixels) for an image of this size. */
function geometry(width: number, height: number, options: DrawOptions) {
  const lw = options.lineThickness ?? defaultLineWidth(width, height);
  const font = Math.max(MIN_FONT_SIZE, lw * FONT_PER_LINE_WIDTH);
  return { lw, font, lineHeight: font * LINE_HEIGHT, pad: font * LABEL_PADDING };
}

/**
 * Draws `cells` into `image`'s pixels (in place): every box outline, then every label (so that no box is drawn over
 * another cell's label): a background in the class colour above the box when there is room, else inside its top edge,
 * kept inside the image horizontally; the lines in black or white, whichever reads on the colour.
 */
export async function drawCells(
  image: RgbImage,
  cells: readonly DrawnCell[],
  names: readonly string[],
  options: DrawOptions = {},
): Promise<void> {
  const { width, height } = image;
  const { lw, font, lineHeight, pad } = geometry(width, height, options);
  const labels = cells.map((cell) => labelLines(cell, names, options));
  const atlas = labels.some((l) => l.length > 0) ? await glyphAtlas(font) : null;
  const colours = cells.map((cell) => parseHexColour(classColour(cell.cls, names)));
  cells.forEach((cell, c) => {
    const [x1, y1, x2, y2] = cell.box;
    // the SVG renderer's stroke: centred on a rectangle lw/2 inside the box, at least 1 px wide and high
    const left = x1 + lw / 2;
    const top = y1 + lw / 2;
    strokeRect(image, left, top, left + Math.max(x2 - x1 - lw, 1), top + Math.max(y2 - y1 - lw, 1), lw, colours[c]!);
  });
  if (!atlas) return;
  cells.forEach((cell, c) => {
    const lines = labels[c]!;
    if (lines.length === 0) return;
    const [x1, y1] = cell.box;
    const boxW = Math.max(...lines.map(lineLength)) * font * MONO_ADVANCE + 2 * pad;
    const boxH = lines.length * lineHeight + pad;
    const top = y1 - boxH >= 0 ? y1 - boxH : Math.min(y1, Math.max(0, height - boxH));
    const left = Math.max(0, Math.min(x1, width - boxW));
    fillRect(image, left, top, left + boxW, top + boxH, colours[c]!);
    const ink = textColour(colours[c]!);
    lines.forEach((line, i) => {
      drawLine(image, atlas, line, left + pad, top + (i + 1) * lineHeight - pad / 2, ink);
    });
  });
}

/** Encoding of an annotated image. */
export type AnnotatedFormat = "jpeg" | "png";

/** A copy of the image with `cells` drawn on it ({@link drawCells}), encoded. */
export async function drawAnnotated(
  image: RgbImage,
  cells: readonly DrawnCell[],
  names: readonly string[],
  format: AnnotatedFormat,
  options: DrawOptions = {},
): Promise<Buffer> {
  const canvas: RgbImage = { data: Buffer.from(image.data), width: image.width, height: image.height };
  await drawCells(canvas, cells, names, options);
  const raw = sharp(canvas.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  // standard Huffman tables (PIL's default too): the same pixels, 2–3% larger, a third faster to encode than optimised
  return format === "png"
    ? raw.png().toBuffer()
    : raw.jpeg({ quality: ANNOTATED_JPEG_QUALITY, optimiseCoding: false }).toBuffer();
}
