/**
 * Annotated images of `sladet detect`: boxes in a colour per class, labelled with the class, the confidence and the 7
 * attributes in a compact code, drawn at the original resolution by compositing an SVG overlay with sharp (text in
 * DejaVu Sans Mono: Debian's fonts-dejavu-core, installed by tools/setup.sh).
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
export const MIN_LINE_WIDTH = 2;
/** Label font size in pixels per pixel of line width. */
export const FONT_PER_LINE_WIDTH = 6;
/** Smallest label font size in pixels (legible on small images). */
export const MIN_FONT_SIZE = 11;
/** Advance of a DejaVu Sans Mono glyph, as a fraction of the font size. */
const MONO_ADVANCE = 0.602;
/** Label line height and padding, as fractions of the font size. */
const LINE_HEIGHT = 1.2;
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

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** One cell to draw, in original-image pixels. */
export interface DrawnCell {
  box: readonly [number, number, number, number];
  cls: number;
  confidence: number;
  /** The attribute code ({@link attributeCodeParts}); absent = not drawn. */
  code?: readonly CodePart[];
}

/** Options of {@link overlaySvg} and {@link drawAnnotated}. */
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

/** A label line as SVG text content (uncertain parts faded). */
function lineSvg(line: readonly CodePart[]): string {
  return line
    .map((p) =>
      p.uncertain ? `<tspan fill-opacity="${UNCERTAIN_OPACITY}">${escapeXml(p.text)}</tspan>` : escapeXml(p.text),
    )
    .join("");
}

/** An SVG overlay of `cells` for an image of `width × height`. */
export function overlaySvg(
  width: number,
  height: number,
  cells: readonly DrawnCell[],
  names: readonly string[],
  options: DrawOptions = {},
): string {
  const lw = options.lineThickness ?? defaultLineWidth(width, height);
  const font = Math.max(MIN_FONT_SIZE, lw * FONT_PER_LINE_WIDTH);
  const lineHeight = font * LINE_HEIGHT;
  const pad = font * LABEL_PADDING;
  const parts: string[] = [];
  const labels: string[] = [];
  for (const cell of cells) {
    const colour = classColour(cell.cls, names);
    const [x1, y1, x2, y2] = cell.box;
    parts.push(
      `<rect x="${r1(x1 + lw / 2)}" y="${r1(y1 + lw / 2)}" width="${r1(Math.max(x2 - x1 - lw, 1))}" height="${r1(Math.max(y2 - y1 - lw, 1))}" fill="none" stroke="${colour}" stroke-width="${lw}"/>`,
    );
    const lines = labelLines(cell, names, options);
    if (lines.length === 0) continue;
    const boxW = Math.max(...lines.map(lineLength)) * font * MONO_ADVANCE + 2 * pad;
    const boxH = lines.length * lineHeight + pad;
    // above the box when there is room, else inside its top edge; kept inside the image horizontally
    const top = y1 - boxH >= 0 ? y1 - boxH : Math.min(y1, Math.max(0, height - boxH));
    const left = Math.max(0, Math.min(x1, width - boxW));
    labels.push(
      `<rect x="${r1(left)}" y="${r1(top)}" width="${r1(boxW)}" height="${r1(boxH)}" fill="${colour}"/>`,
      ...lines.map(
        (l, i) =>
          `<text x="${r1(left + pad)}" y="${r1(top + (i + 1) * lineHeight - pad / 2)}" fill="${textColour(colour)}">${lineSvg(l)}</text>`,
      ),
    );
  }
  // labels after every box, so no box is drawn over another cell's label
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="DejaVu Sans Mono, monospace" font-size="${r1(font)}">${parts.join("")}${labels.join("")}</svg>`
  );
}

function r1(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Encoding of an annotated image. */
export type AnnotatedFormat = "jpeg" | "png";

/** The image with `cells` drawn on it, encoded. */
export async function drawAnnotated(
  image: RgbImage,
  cells: readonly DrawnCell[],
  names: readonly string[],
  format: AnnotatedFormat,
  options: DrawOptions = {},
): Promise<Buffer> {
  const svg = Buffer.from(overlaySvg(image.width, image.height, cells, names, options));
  const canvas = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).composite([
    { input: svg, left: 0, top: 0 },
  ]);
  return format === "png" ? canvas.png().toBuffer() : canvas.jpeg({ quality: ANNOTATED_JPEG_QUALITY }).toBuffer();
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
