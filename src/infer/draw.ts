/**
 * Annotated images of `sladet detect`: boxes in a colour per class, labelled with the class, the confidence and the 7
 * attributes in a compact code, drawn at the original resolution straight into the decoded RGB pixels, then encoded
 * once. Box outlines and label backgrounds are antialiased by the area each pixel covers; the label text (DejaVu Sans
 * Mono: Debian's fonts-dejavu-core, installed by tools/setup.sh) comes from glyph masks rasterised by sharp once per font
 * size ({@link glyphAtlas}) and blended in. The result matches the SVG overlay this module rendered with librsvg before
 * (test/infer/draw.test.ts compares against its goldens) at a fraction of the time (librsvg took ~0.3 ms per label line).
 *
 * The attribute code: `M·ORI·SSA` = Cell Size (S/M/L), then the nucleus (chromatin, shape, nucleolus), then the
 * cytoplasm (amount, basophilia, vacuoles), one letter per attribute: the initial of the predicted value's name (each
 * attribute's values have distinct initials). A faded letter means the head gave that value less than
 * {@link UNCERTAIN_BELOW} probability. {@link legendText} spells it out (written as legend.txt in every run folder).
 */
import sharp from "sharp";
import type { RgbImage } from "../data/images.js";
import { type AttributeSpec, LLD_ATTRIBUTES, LLD_CLASS_NAMES } from "../data/schema.js";
import { CLASS_COLOURS } from "../data/synth/contact-sheet.js";

/** A value predicted with a probability below this is drawn faded. */
export const UNCERTAIN_BELOW = 0.7;
/** Attribute indices (LLD_ATTRIBUTES order) of the code's groups: size · nucleus · cytoplasm. */
export const ATTRIBUTE_GROUPS: readonly (readonly number[])[] = [[0], [1, 2, 3], [4, 5, 6]];
/** Separator between the groups of the attribute code. */
export const GROUP_SEPARATOR = "·";
/** Names of the groups in the legend. */
const GROUP_NAMES = ["size", "nucleus", "cytoplasm"] as const;

/** Line width = this fraction of the image's mean side (at least {@link MIN_LINE_WIDTH}), as YOLOv5 draws. */
export const LINE_WIDTH_FRACTION = 0.003;
/** Thinnest default box line, in pixels. */
export const MIN_LINE_WIDTH = 2;
/** Label font size in pixels per pixel of line width. */
export const FONT_PER_LINE_WIDTH = 6;
/** Smallest label font size in pixels (legible on small images). */
export const MIN_FONT_SIZE = 11;
/** Advance of a DejaVu Sans Mono glyph, as a fraction of the font size (1233 font units of 2048 per em). */
const MONO_ADVANCE = 1233 / 2048;
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

/** One value letter per attribute value: the initial of its name. Throws when two values of an attribute share one. */
export function valueLetters(spec: AttributeSpec): string[] {
  const letters = spec.values.map((v) => v[0]!.toUpperCase());
  if (new Set(letters).size !== letters.length)
    throw new Error(`attribute ${spec.name}: values ${spec.values.join("/")} share an initial`);
  return letters;
}

/** One character of an attribute code: a value letter (faded when uncertain) or a group separator. */
export interface CodePart {
  text: string;
  uncertain: boolean;
}

/**
 * The compact attribute code of a cell as parts (see the module comment).
 * @param values predicted value index per attribute (LLD_ATTRIBUTES order).
 * @param confidence probability of each predicted value (same order); omitted = all certain.
 */
export function attributeCodeParts(
  values: readonly number[],
  confidence?: readonly number[],
  schema: readonly AttributeSpec[] = LLD_ATTRIBUTES,
): CodePart[] {
  const parts: CodePart[] = [];
  ATTRIBUTE_GROUPS.forEach((group, g) => {
    if (g > 0) parts.push({ text: GROUP_SEPARATOR, uncertain: false });
    for (const i of group) {
      const text = valueLetters(schema[i]!)[values[i]!] ?? "?";
      parts.push({ text, uncertain: confidence !== undefined && confidence[i]! < UNCERTAIN_BELOW });
    }
  });
  return parts;
}

/** The attribute code as text, e.g. "M·ORI·SSA" (uncertainty not shown). */
export function attributeCode(values: readonly number[], schema: readonly AttributeSpec[] = LLD_ATTRIBUTES): string {
  return attributeCodeParts(values, undefined, schema)
    .map((p) => p.text)
    .join("");
}

/** True when `names` are the LLD classes (their colours are those of the synthetic contact sheet). */
function isLld(names: readonly string[]): boolean {
  return names.length === LLD_CLASS_NAMES.length && names.every((n, i) => n === LLD_CLASS_NAMES[i]);
}

/**
 * The colour of class `cls`: the LLD colours for the LLD classes (grey for "None"); for other models the same
 * palette without its grey, so that a one-class model's cells stand out.
 */
export function classColour(cls: number, names: readonly string[]): string {
  if (isLld(names)) return CLASS_COLOURS[cls % CLASS_COLOURS.length]!;
  const vivid = CLASS_COLOURS.slice(1);
  return vivid[cls % vivid.length]!;
}

/** The text colour readable on `background` (#rrggbb). */
function textColour(background: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(background.slice(i, i + 2), 16) / 255) as [
    number,
    number,
    number,
  ];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > LIGHT_BACKGROUND ? "#000000" : "#ffffff";
}

/** One cell to draw, in original-image pixels. */
export interface DrawnCell {
  box: readonly [number, number, number, number];
  cls: number;
  confidence: number;
  /** The attribute code ({@link attributeCodeParts}); absent = not drawn. */
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

/** Drawn for a character without a glyph in the atlas (anything outside printable ASCII and Latin-1). */
export const REPLACEMENT_CHARACTER = "\uFFFD";
/** Characters that take their place in a label but draw nothing: white space and the (invisible) soft hyphen. */
const BLANK = /[\s\u00ad]/u;
/**
 * The characters rasterised once per font size: printable ASCII, printable Latin-1 (DejaVu Sans Mono covers both; the
 * group separator `·` is U+00B7) and {@link REPLACEMENT_CHARACTER}; no {@link BLANK} (a soft hyphen has no advance in
 * the atlas's text line and would shift the glyphs after it).
 */
const ATLAS_CHARACTERS: readonly string[] = [
  ...codePoints(0x21, 0x7e),
  ...codePoints(0xa1, 0xff).filter((c) => c !== 0xad),
  REPLACEMENT_CHARACTER.codePointAt(0)!,
].map((c) => String.fromCodePoint(c));
/**
 * Sub-pixel positions per pixel, horizontally and vertically, at which each glyph is rasterised. librsvg draws a
 * glyph at its exact fractional position; a glyph is drawn from the raster nearest its position (within 1/8 px).
 */
const GLYPH_PHASES = 4;
/** Glyphs per text line of the atlas SVG (short lines: letter spacing accumulates rounding along a line). */
const ATLAS_LINE_GLYPHS = 32;
/** Room around each glyph's advance in the atlas, left, right and below the baseline, as a fraction of the font size. */
const ATLAS_MARGIN = 0.5;
/** Room above the baseline in the atlas (accented capitals included), as a fraction of the font size. */
const ATLAS_ASCENT = 1.2;

function codePoints(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** One glyph raster: alpha coverage 0–255, placed at (pen x + dx, baseline y + dy) for an integer pen position. */
interface GlyphMask {
  dx: number;
  dy: number;
  width: number;
  height: number;
  alpha: Uint8Array;
}

/** The label font at one size: per character, its masks at the {@link GLYPH_PHASES}² sub-pixel positions. */
export interface GlyphAtlas {
  fontSize: number;
  /** Index of a phase: vertical phase × GLYPH_PHASES + horizontal phase. */
  glyphs: ReadonlyMap<string, readonly GlyphMask[]>;
}

/** Glyph atlases by font size (the labels use one weight: regular), rendered on first use, for the process. */
const atlases = new Map<number, Promise<GlyphAtlas>>();

/**
 * The glyph atlas of the label font (DejaVu Sans Mono, regular) at `fontSize` pixels: every character of
 * {@link ATLAS_CHARACTERS} at every sub-pixel phase, rendered by sharp (librsvg, like the report's SVG) in one SVG on
 * the first call for that size and kept.
 */
export function glyphAtlas(fontSize: number): Promise<GlyphAtlas> {
  let atlas = atlases.get(fontSize);
  if (!atlas) {
    atlas = renderAtlas(fontSize);
    atlases.set(fontSize, atlas);
    atlas.catch(() => atlases.delete(fontSize));
  }
  return atlas;
}

async function renderAtlas(fontSize: number): Promise<GlyphAtlas> {
  const advance = fontSize * MONO_ADVANCE;
  const margin = Math.ceil(fontSize * ATLAS_MARGIN);
  const ascent = Math.ceil(fontSize * ATLAS_ASCENT);
  const cellW = Math.ceil(advance) + 2 * margin;
  const rowH = ascent + margin;
  const chunks: string[][] = [];
  for (let i = 0; i < ATLAS_CHARACTERS.length; i += ATLAS_LINE_GLYPHS)
    chunks.push(ATLAS_CHARACTERS.slice(i, i + ATLAS_LINE_GLYPHS) as string[]);
  const phases = GLYPH_PHASES * GLYPH_PHASES;
  const width = ATLAS_LINE_GLYPHS * cellW;
  const height = chunks.length * phases * rowH;
  // one text line per (chunk, phase); letter spacing makes every pen position (margin + k·cellW + phase) exact
  const lines: string[] = [];
  chunks.forEach((chunk, c) => {
    for (let p = 0; p < phases; p++) {
      const x = margin + (p % GLYPH_PHASES) / GLYPH_PHASES;
      const y = (c * phases + p) * rowH + ascent + Math.floor(p / GLYPH_PHASES) / GLYPH_PHASES;
      const text = chunk.join("").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      lines.push(`<text x="${x}" y="${y}" letter-spacing="${cellW - advance}">${text}</text>`);
    }
  });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans Mono, monospace" ` +
    `font-size="${fontSize}" fill="#ffffff">${lines.join("")}</svg>`;
  const alpha = await sharp(Buffer.from(svg)).ensureAlpha().extractChannel(3).raw().toBuffer();
  const glyphs = new Map<string, GlyphMask[]>();
  chunks.forEach((chunk, c) => {
    chunk.forEach((ch, k) => {
      const masks: GlyphMask[] = [];
      for (let p = 0; p < phases; p++) {
        const x0 = k * cellW;
        const y0 = (c * phases + p) * rowH;
        masks.push(cropGlyph(alpha, width, x0, y0, cellW, rowH, x0 + margin, y0 + ascent));
      }
      glyphs.set(ch, masks);
    });
  });
  return { fontSize, glyphs };
}

/** The non-zero part of the atlas cell at (x0, y0), relative to the integer pen position (penX, baseline). */
function cropGlyph(
  alpha: Uint8Array,
  stride: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  penX: number,
  baseline: number,
): GlyphMask {
  let [left, top, right, bottom] = [w, h, -1, -1];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (alpha[(y0 + y) * stride + x0 + x]! > 0) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
  if (right < 0) return { dx: 0, dy: 0, width: 0, height: 0, alpha: new Uint8Array(0) };
  const width = right - left + 1;
  const height = bottom - top + 1;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y0 + top + y) * stride + x0 + left;
    out.set(alpha.subarray(from, from + width), y * width);
  }
  return { dx: x0 + left - penX, dy: y0 + top - baseline, width, height, alpha: out };
}

/** A colour as [r, g, b] bytes. */
type Rgb = readonly [number, number, number];

function rgbOf(hex: string): Rgb {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;
}

/** How much of each pixel column (or row) i ∈ [start, start + cover.length) the interval [a, b) covers, clipped to [0, n). */
function coverage(a: number, b: number, n: number): { start: number; cover: Float64Array } {
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
function fillRect(image: RgbImage, x0: number, y0: number, x1: number, y1: number, rgb: Rgb): void {
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
function strokeRect(image: RgbImage, x0: number, y0: number, x1: number, y1: number, lw: number, rgb: Rgb): void {
  const h = lw / 2;
  const ox = coverage(x0 - h, x1 + h, image.width);
  const oy = coverage(y0 - h, y1 + h, image.height);
  const hollow = x1 - x0 > lw && y1 - y0 > lw;
  const ix = coverage(x0 + h, hollow ? x1 - h : x0 + h, image.width);
  const iy = coverage(y0 + h, hollow ? y1 - h : y0 + h, image.height);
  const at = (c: { start: number; cover: Float64Array }, i: number) => c.cover[i - c.start] ?? 0;
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

/** Draws a glyph mask with its top-left at (x, y) in `rgb`, its coverage scaled by `opacity`. */
function drawGlyph(image: RgbImage, g: GlyphMask, x: number, y: number, rgb: Rgb, opacity: number): void {
  const { data, width, height } = image;
  const c0 = Math.max(0, -x);
  const c1 = Math.min(g.width, width - x);
  const r0 = Math.max(0, -y);
  const r1 = Math.min(g.height, height - y);
  const scale = opacity / 255;
  for (let r = r0; r < r1; r++) {
    const src = r * g.width;
    const dst = ((y + r) * width + x) * 3;
    for (let c = c0; c < c1; c++) {
      const a = g.alpha[src + c]!;
      if (a > 0) blend(data, dst + c * 3, rgb, a * scale);
    }
  }
}

/** Draws a label line with its pen starting at (x, baseline); faded parts at {@link UNCERTAIN_OPACITY}. */
function drawLine(
  image: RgbImage,
  atlas: GlyphAtlas,
  line: readonly CodePart[],
  x: number,
  baseline: number,
  rgb: Rgb,
): void {
  const advance = atlas.fontSize * MONO_ADVANCE;
  const ty = Math.round(baseline * GLYPH_PHASES);
  const yi = Math.floor(ty / GLYPH_PHASES);
  const py = ty - yi * GLYPH_PHASES;
  let k = 0;
  for (const part of line) {
    const opacity = part.uncertain ? UNCERTAIN_OPACITY : 1;
    for (const ch of part.text) {
      const masks = BLANK.test(ch) ? undefined : (atlas.glyphs.get(ch) ?? atlas.glyphs.get(REPLACEMENT_CHARACTER));
      if (masks) {
        const tx = Math.round((x + k * advance) * GLYPH_PHASES);
        const xi = Math.floor(tx / GLYPH_PHASES);
        const g = masks[py * GLYPH_PHASES + tx - xi * GLYPH_PHASES]!;
        if (g.width > 0) drawGlyph(image, g, xi + g.dx, yi + g.dy, rgb, opacity);
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
  const colours = cells.map((cell) => classColour(cell.cls, names));
  cells.forEach((cell, c) => {
    const [x1, y1, x2, y2] = cell.box;
    // the SVG renderer's stroke: centred on a rectangle lw/2 inside the box, at least 1 px wide and high
    const left = x1 + lw / 2;
    const top = y1 + lw / 2;
    strokeRect(
      image,
      left,
      top,
      left + Math.max(x2 - x1 - lw, 1),
      top + Math.max(y2 - y1 - lw, 1),
      lw,
      rgbOf(colours[c]!),
    );
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
    fillRect(image, left, top, left + boxW, top + boxH, rgbOf(colours[c]!));
    const ink = rgbOf(textColour(colours[c]!));
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

/** The legend of annotated images (legend.txt, and the README's Detect section). */
export function legendText(names: readonly string[], withAttributes = true): string {
  const lines = ["Annotated images of sladet detect", "", "Box label:  <class> <confidence>"];
  if (withAttributes) {
    const example = attributeCode(LLD_ATTRIBUTES.map(() => 0));
    lines.push(
      `            <attribute code>, e.g. ${example}`,
      "",
      `Attribute code: ${GROUP_NAMES.join(` ${GROUP_SEPARATOR} `)}, one letter per attribute, the initial of the predicted value:`,
    );
    ATTRIBUTE_GROUPS.forEach((group, g) => {
      for (const i of group) {
        const spec = LLD_ATTRIBUTES[i]!;
        const letters = valueLetters(spec);
        const values = spec.values.map((v, k) => `${letters[k]} ${v}`).join(", ");
        lines.push(`  ${GROUP_NAMES[g]!.padEnd(10)} ${spec.name.padEnd(24)} ${values}`);
      }
    });
    lines.push(
      `  a faded letter: the attribute head gave that value less than ${UNCERTAIN_BELOW} probability`,
      `  e.g. ${attributeCode([1, 1, 1, 0, 1, 0, 0])} = Medium; nucleus: Coarse chromatin, Irregular shape, Inconspicuous nucleolus;`,
      "       cytoplasm: Abundant, Slight basophilia, vacuoles Absent",
    );
  }
  lines.push("", "Box colours:");
  names.forEach((n, i) => {
    lines.push(`  ${String(i).padStart(2)} ${n.padEnd(24)} ${classColour(i, names)}`);
  });
  return `${lines.join("\n")}\n`;
}
