/**
 * The label font's glyph masks: DejaVu Sans Mono (Debian's fonts-dejavu-core, installed by tools/setup.sh) rasterised
 * by sharp (librsvg, like the report's SVG) once per font size at a few sub-pixel positions, and kept for the process
 * ({@link glyphAtlas}).
 */
import sharp from "sharp";
import type { AlphaMask } from "./raster.js";

/** Advance of a DejaVu Sans Mono glyph, as a fraction of the font size (1233 font units of 2048 per em). */
export const MONO_ADVANCE = 1233 / 2048;
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
 * Sub-pixel positions per pixel, horizontally and vertically, at which each glyph is rasterised below
 * {@link LARGE_FONT_SIZE}. librsvg draws a glyph at its exact fractional position; a glyph is drawn from the raster
 * nearest its position (within 1/8 px).
 */
export const GLYPH_PHASES = 4;
/**
 * From this font size (pixels) on, glyphs are rasterised at {@link LARGE_FONT_PHASES}² sub-pixel positions only: the
 * atlas grows with the square of the font size and the number of positions, and a 1/4 px error is invisible on glyphs
 * this big.
 */
export const LARGE_FONT_SIZE = 32;
/** Sub-pixel positions per pixel, each way, from {@link LARGE_FONT_SIZE} to below {@link HUGE_FONT_SIZE}. */
export const LARGE_FONT_PHASES = 2;
/**
 * From this font size (pixels) on (labels of images above ~3500 px a side), glyphs are rasterised at the integer pixel
 * position only (within 1/2 px of their position).
 */
export const HUGE_FONT_SIZE = 64;
/** Glyphs per text line of the atlas SVG (short lines: letter spacing accumulates rounding along a line). */
const ATLAS_LINE_GLYPHS = 32;
/** Room around each glyph's advance in the atlas, left, right and below the baseline, as a fraction of the font size. */
const ATLAS_MARGIN = 0.5;
/** Room above the baseline in the atlas (accented capitals included), as a fraction of the font size. */
const ATLAS_ASCENT = 1.2;

function codePoints(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Sub-pixel positions per pixel, horizontally and vertically, of the atlas at `fontSize` pixels. */
export function glyphPhases(fontSize: number): number {
  if (fontSize >= HUGE_FONT_SIZE) return 1;
  return fontSize >= LARGE_FONT_SIZE ? LARGE_FONT_PHASES : GLYPH_PHASES;
}

/** One glyph raster: alpha coverage 0–255, placed at (pen x + dx, baseline y + dy) for an integer pen position. */
export interface GlyphMask extends AlphaMask {
  dx: number;
  dy: number;
}

/** The label font at one size: per character, its masks at the `phases`² sub-pixel positions. */
export interface GlyphAtlas {
  fontSize: number;
  /** Sub-pixel positions per pixel, each way ({@link glyphPhases}). */
  phases: number;
  /** Index of a position: vertical phase × phases + horizontal phase (phase k = k / phases of a pixel). */
  glyphs: ReadonlyMap<string, readonly GlyphMask[]>;
}

/**
 * The masks that draw `ch`: its own, the {@link REPLACEMENT_CHARACTER}'s when the atlas has none, or none for a
 * {@link BLANK} character.
 */
export function glyphMasks(atlas: GlyphAtlas, ch: string): readonly GlyphMask[] | undefined {
  return BLANK.test(ch) ? undefined : (atlas.glyphs.get(ch) ?? atlas.glyphs.get(REPLACEMENT_CHARACTER));
}

/** Glyph atlases by font size (the labels use one weight: regular), rendered on first use, for the process. */
const atlases = new Map<number, Promise<GlyphAtlas>>();

/**
 * The glyph atlas of the label font (DejaVu Sans Mono, regular) at `fontSize` pixels: every character of
 * {@link ATLAS_CHARACTERS} at every sub-pixel phase, rendered by sharp in one SVG on the first call for that size and
 * kept.
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
  const perAxis = glyphPhases(fontSize);
  const phases = perAxis * perAxis;
  const width = ATLAS_LINE_GLYPHS * cellW;
  const height = chunks.length * phases * rowH;
  // one text line per (chunk, phase); letter spacing makes every pen position (margin + k·cellW + phase) exact
  const lines: string[] = [];
  chunks.forEach((chunk, c) => {
    for (let p = 0; p < phases; p++) {
      const x = margin + (p % perAxis) / perAxis;
      const y = (c * phases + p) * rowH + ascent + Math.floor(p / perAxis) / perAxis;
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
  return { fontSize, phases: perAxis, glyphs };
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
