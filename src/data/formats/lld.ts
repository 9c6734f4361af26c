/**
 * The LLD-YOLO label format (design.md §4 decisions 1–2, method.md §1.2): one text file per image, one object per line.
 *
 * Line forms read (K = number of attributes, 7 for LLD):
 * - 16 = 9+K columns `cls xc yc w h rx1 ry1 rx2 ry2 a0..a6`: the seed's code (region order set by `regionOrder`);
 * - 15 = 8+K columns: the seed README's form, six attributes a1..a6, Cell Size (a0) unknown;
 * - 12 = 5+K columns `cls xc yc w h a0..a6`: AttriDet's form, no region on the line;
 * - 5 columns `cls xc yc w h`: plain YOLO, no attributes.
 * Box numbers are normalised to the image; region numbers are pixels of the stored image (or fractions with
 * `regionUnits: "norm"`). An attribute value outside the attribute's value set means unknown: the writer uses the
 * first code past the set (2 for the binary attributes, as the seed does; 3 for Cell Size).
 *
 * The region belongs to the image, so every line must carry the same one. A sidecar `<stem>.region` next to the label
 * file (`x1 y1 x2 y2`, always in that order, in `regionUnits`) keeps the region of an image that has no object inside
 * it; the writer writes it for every image with a region. No region anywhere = the whole image is labelled (dense).
 */
import { rmSync } from "node:fs";
import { pushAll } from "../../util/arrays.js";
import { describeBytes, InputFileError, readBoundedText } from "../../util/bounded-read.js";
import { writeFileAtomic } from "../../util/fs.js";
import { MAX_LABEL_FILE_BYTES, MAX_LABEL_LINES, MAX_REGION_FILE_BYTES } from "../limits.js";
import { type DataProblem, quote } from "../problems.js";
import {
  describeRect,
  type ImageSize,
  normToPixels,
  pixelsToNorm,
  type RegionOrder,
  type RegionUnits,
  rectFromNumbers,
  rectToNumbers,
  regionsEqual,
} from "../region.js";
import {
  type AttributeSpec,
  type CellLabel,
  type ImageAnnotation,
  isKnownAttribute,
  LLD_ATTRIBUTES,
  type PixelRect,
  UNKNOWN_ATTRIBUTE,
} from "../schema.js";
import { formatNumber, parseField } from "./numbers.js";

/** The code written for an unknown value of `spec`: the first code past its value set (2 for binary attributes). */
export function unknownAttributeCode(spec: AttributeSpec): number {
  return spec.values.length;
}

/** Options of {@link formatLldLine} and {@link writeLldLabelFile}. */
export interface LldWriteOptions {
  /** Attribute schema; one column per attribute. @default LLD_ATTRIBUTES */
  attributes?: readonly AttributeSpec[];
  /** Order of the region's four numbers on a line. @default "x1y1x2y2" (the seed's code) */
  regionOrder?: RegionOrder;
  /** Units of the region numbers; "norm" needs the image size. @default "px" */
  regionUnits?: RegionUnits;
  /** Image size, needed for `regionUnits: "norm"`. @default undefined (taken from the annotation when writing a file) */
  imageSize?: ImageSize;
  /** Decimals kept for box numbers and non-integer region numbers. @default 6 */
  digits?: number;
}

function regionNumbers(region: PixelRect, order: RegionOrder, units: RegionUnits, size?: ImageSize): number[] {
  if (units === "norm") {
    if (!size) throw new Error("writing a normalised region needs the image size (option imageSize)");
    return rectToNumbers(pixelsToNorm(region, size), order);
  }
  return rectToNumbers(region, order);
}

/**
 * Formats one object as a label line: 16 columns `cls xc yc w h rx1 ry1 rx2 ry2 a0..a6` when `region` is given,
 * 12 columns `cls xc yc w h a0..a6` (AttriDet's form, read back as "no region") when it is null. Unknown attributes
 * (and all of them when `label.attributes` is empty) are written as {@link unknownAttributeCode}.
 */
export function formatLldLine(label: CellLabel, region: PixelRect | null, options: LldWriteOptions = {}): string {
  const { attributes = LLD_ATTRIBUTES, regionOrder = "x1y1x2y2", regionUnits = "px", digits = 6 } = options;
  const fields = [String(label.cls), ...[label.xc, label.yc, label.w, label.h].map((v) => formatNumber(v, digits))];
  if (region) {
    for (const v of regionNumbers(region, regionOrder, regionUnits, options.imageSize))
      fields.push(formatNumber(v, digits));
  }
  attributes.forEach((spec, i) => {
    const value = label.attributes[i] ?? UNKNOWN_ATTRIBUTE;
    fields.push(String(isKnownAttribute(value, i, attributes) ? value : unknownAttributeCode(spec)));
  });
  return fields.join(" ");
}

/** Options of {@link formatLldLabelText}: those of a line plus how to write a dense image. */
export interface LldFileWriteOptions extends LldWriteOptions {
  /**
   * How to write an image without a region (dense): "full-image" writes the region `0 0 width height` on every line
   * (16 columns, readable by the seed's code); "omit" writes 12-column lines without a region.
   * @default "full-image"
   */
  denseRegion?: "full-image" | "omit";
}

/** The text of a label file for `annotation` (one line per label, newline-terminated; "" for no labels). */
export function formatLldLabelText(annotation: ImageAnnotation, options: LldFileWriteOptions = {}): string {
  const { denseRegion = "full-image" } = options;
  const size = options.imageSize ?? { width: annotation.width, height: annotation.height };
  let region = annotation.region;
  if (region === null && denseRegion === "full-image" && size.width > 0 && size.height > 0) {
    region = { x1: 0, y1: 0, x2: size.width, y2: size.height };
  }
  const lineOptions = { ...options, imageSize: size };
  return annotation.labels.map((label) => `${formatLldLine(label, region, lineOptions)}\n`).join("");
}

/** Path of the region sidecar of a label file: `labels/a.txt` → `labels/a.region`. */
export function regionSidecarPath(labelPath: string): string {
  return labelPath.replace(/\.[^./\\]*$/, "") + ".region";
}

/** The text of a region sidecar: `x1 y1 x2 y2` (always this order) in `units`. */
export function formatRegionSidecar(
  region: PixelRect,
  options: { regionUnits?: RegionUnits; imageSize?: ImageSize; digits?: number } = {},
): string {
  const numbers = regionNumbers(region, "x1y1x2y2", options.regionUnits ?? "px", options.imageSize);
  return `${numbers.map((v) => formatNumber(v, options.digits ?? 6)).join(" ")}\n`;
}

/**
 * Writes the label file of one image atomically, and its region sidecar when the image has a region (so an image
 * with no object inside its region keeps the region). A stale sidecar is removed when the image has none.
 */
export function writeLldLabelFile(path: string, annotation: ImageAnnotation, options: LldFileWriteOptions = {}): void {
  const imageSize = options.imageSize ?? { width: annotation.width, height: annotation.height };
  writeFileAtomic(path, formatLldLabelText(annotation, { ...options, imageSize }));
  const sidecar = regionSidecarPath(path);
  if (annotation.region) {
    writeFileAtomic(sidecar, formatRegionSidecar(annotation.region, { ...options, imageSize }));
  } else {
    rmSync(sidecar, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** Options of the LLD readers. */
export interface LldReadOptions {
  /** Attribute schema; decides the accepted column counts. @default LLD_ATTRIBUTES */
  attributes?: readonly AttributeSpec[];
  /** Order of the region numbers on a line (the data YAML's `region_order`). @default "x1y1x2y2" */
  regionOrder?: RegionOrder;
  /** Units of the region numbers (the data YAML's `region_units`); "norm" needs `imageSize`. @default "px" */
  regionUnits?: RegionUnits;
  /** Size of the stored image: enables the region-in-image and centre-in-region checks. @default undefined */
  imageSize?: ImageSize;
  /** Number of classes: a class id ≥ this is an error. @default undefined (not checked) */
  numClasses?: number;
  /** How far (normalised) a box edge may stick out of the image before it is reported and clipped. @default 0.001 */
  edgeTolerance?: number;
  /** Most lines of a label file: a longer file is one error and no labels. @default MAX_LABEL_LINES */
  maxLines?: number;
}

/** A problem of one line, before the file is known. */
export type LineProblem = Omit<DataProblem, "file" | "line">;

/** Column forms of a label line. */
export type LldLineForm = "lld" | "readme" | "attridet" | "yolo";

/** One parsed label line. */
export interface LldLine {
  label: CellLabel;
  /** The line's region in pixels; null for forms without one or when the image size is needed but unknown. */
  region: PixelRect | null;
  form: LldLineForm;
}

/** Result of {@link parseLldLine}: the line (absent when it must be skipped) and its problems. */
export interface LldLineResult {
  line?: LldLine;
  problems: LineProblem[];
}

function lineForms(k: number): Map<number, LldLineForm> {
  const forms = new Map<number, LldLineForm>();
  forms.set(5, "yolo");
  if (k > 0) {
    forms.set(8 + k, "readme");
    forms.set(5 + k, "attridet");
  }
  forms.set(9 + k, "lld");
  return forms;
}

function describeForms(k: number): string {
  const counts = [...lineForms(k).keys()].sort((a, b) => b - a);
  return `${counts.slice(0, -1).join(", ")} or ${counts.at(-1)} numbers`;
}

const err = (kind: LineProblem["kind"], expected: string, found: string, consequence?: string): LineProblem => ({
  severity: "error",
  kind,
  expected,
  found,
  ...(consequence ? { consequence } : {}),
});

/** Parses and validates one non-blank label line. */
export function parseLldLine(text: string, options: LldReadOptions = {}): LldLineResult {
  const { attributes = LLD_ATTRIBUTES, regionOrder = "x1y1x2y2", regionUnits = "px", edgeTolerance = 0.001 } = options;
  const k = attributes.length;
  const fields = text.trim().split(/\s+/);
  const forms = lineForms(k);
  const form = forms.get(fields.length);
  if (!form) {
    return {
      problems: [err("column-count", describeForms(k), `${fields.length} in ${quote(text)}`, "line skipped")],
    };
  }
  const values = fields.map(parseField);
  const bad = values.findIndex((v) => Number.isNaN(v));
  if (bad >= 0) {
    return {
      problems: [err("not-a-number", `a number in column ${bad + 1}`, quote(fields[bad] ?? ""), "line skipped")],
    };
  }
  const problems: LineProblem[] = [];
  const cls = values[0] ?? 0;
  if (!Number.isInteger(cls) || cls < 0 || (options.numClasses !== undefined && cls >= options.numClasses)) {
    const range = options.numClasses !== undefined ? `0..${options.numClasses - 1}` : "≥ 0";
    return {
      problems: [err("class-out-of-range", `a class id (integer ${range})`, formatNumber(cls), "line skipped")],
    };
  }
  let [xc = 0, yc = 0, w = 0, h = 0] = values.slice(1, 5);
  const outside = [xc, yc, w, h].findIndex((v) => v < 0 || v > 1);
  if (outside >= 0) {
    const name = ["xc", "yc", "w", "h"][outside];
    return {
      problems: [
        err(
          "box-outside-image",
          `box ${name} normalised to [0,1]`,
          formatNumber(values[outside + 1] ?? 0),
          "line skipped",
        ),
      ],
    };
  }
  if (w <= 0 || h <= 0) {
    return {
      problems: [err("zero-area-box", "a box with positive width and height", `w ${w}, h ${h}`, "line skipped")],
    };
  }
  const [left, right, top, bottom] = [xc - w / 2, xc + w / 2, yc - h / 2, yc + h / 2];
  if (left < -edgeTolerance || top < -edgeTolerance || right > 1 + edgeTolerance || bottom > 1 + edgeTolerance) {
    problems.push({
      severity: "warning",
      kind: "box-outside-image",
      expected: "box edges inside the image [0,1]",
      found: `x ${formatNumber(left)}..${formatNumber(right)}, y ${formatNumber(top)}..${formatNumber(bottom)}`,
      consequence: "box clipped to the image",
    });
    const [x1, x2, y1, y2] = [Math.max(0, left), Math.min(1, right), Math.max(0, top), Math.min(1, bottom)];
    [xc, yc, w, h] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
  }

  let region: PixelRect | null = null;
  if (form === "lld" || form === "readme") {
    const raw = rectFromNumbers(values.slice(5, 9), regionOrder);
    if (regionUnits === "norm") {
      if (options.imageSize) region = normToPixels(raw, options.imageSize);
      else problems.push(err("region-invalid", "the image size to read a normalised region", "none"));
    } else {
      region = raw;
    }
    if (region && !(region.x1 < region.x2 && region.y1 < region.y2)) {
      problems.push(
        err(
          "region-invalid",
          `a region with x1 < x2 and y1 < y2 (region_order ${regionOrder})`,
          describeRect(region),
          "region ignored",
        ),
      );
      region = null;
    }
  }

  const attrValues: number[] = [];
  if (form !== "yolo") {
    const first = form === "attridet" ? 5 : 9;
    const raw = form === "readme" ? [Number.NaN, ...values.slice(first)] : values.slice(first);
    attributes.forEach((spec, i) => {
      const value = raw[i] ?? Number.NaN;
      if (isKnownAttribute(value, i, attributes)) attrValues.push(value);
      else {
        attrValues.push(UNKNOWN_ATTRIBUTE);
        if (!Number.isNaN(value) && value !== unknownAttributeCode(spec)) {
          problems.push({
            severity: "warning",
            kind: "attribute-out-of-set",
            expected: `${spec.name} (column ${first + i + (form === "readme" ? 0 : 1)}) in 0..${spec.values.length - 1} or ${unknownAttributeCode(spec)} (unknown)`,
            found: formatNumber(value),
            consequence: "read as unknown",
          });
        }
      }
    });
  }
  return { line: { label: { cls, xc, yc, w, h, attributes: attrValues }, region, form }, problems };
}

/** The labels, region and problems of one image's label file. */
export interface LldLabelFile {
  labels: CellLabel[];
  /** 1-based line number of each kept label (same order as `labels`). */
  lineNumbers: number[];
  /** The image's region (from the lines or the sidecar); null = dense. */
  region: PixelRect | null;
  /** Where the region came from. */
  regionSource: "lines" | "sidecar" | "none";
  /** Problems, each with file and line. */
  problems: DataProblem[];
  /** Exact duplicate lines dropped. */
  duplicates: number;
  /** Lines in the README's 15-column form (Cell Size unknown). */
  readmeLines: number;
}

/** Parses a region sidecar's text: `x1 y1 x2 y2` (pixels, or fractions with `regionUnits: "norm"`). */
export function parseRegionSidecar(
  text: string,
  file: string,
  options: Pick<LldReadOptions, "regionUnits" | "imageSize"> = {},
): { region: PixelRect | null; problems: DataProblem[] } {
  const lines = text.split(/\r?\n/);
  const index = lines.findIndex((l) => l.trim() !== "");
  const line = index + 1;
  const content = lines[index] ?? "";
  const fields = content.trim().split(/\s+/);
  const fail = (expected: string, found: string): { region: null; problems: DataProblem[] } => ({
    region: null,
    problems: [{ severity: "error", kind: "region-invalid", file, line, expected, found, consequence: "ignored" }],
  });
  if (index < 0) {
    const problem: DataProblem = {
      severity: "error",
      kind: "region-invalid",
      file,
      expected: "a region x1 y1 x2 y2",
      found: "an empty file",
      consequence: "ignored",
    };
    return { region: null, problems: [problem] };
  }
  const extra = lines.slice(index + 1).findIndex((l) => l.trim() !== "");
  if (extra >= 0) {
    return {
      region: null,
      problems: [
        {
          severity: "error",
          kind: "region-invalid",
          file,
          line: index + 2 + extra,
          expected: "one line x1 y1 x2 y2",
          found: `another line ${quote(lines[index + 1 + extra] ?? "")}`,
          consequence: "ignored",
        },
      ],
    };
  }
  if (fields.length !== 4) return fail("4 numbers x1 y1 x2 y2", `${fields.length} in ${quote(content)}`);
  const values = fields.map(parseField);
  const bad = values.findIndex((v) => Number.isNaN(v));
  if (bad >= 0) return fail(`a number in column ${bad + 1}`, quote(fields[bad] ?? ""));
  let region = rectFromNumbers(values, "x1y1x2y2");
  if (options.regionUnits === "norm") {
    if (!options.imageSize) return fail("the image size to read a normalised region", "none");
    region = normToPixels(region, options.imageSize);
  }
  if (!(region.x1 < region.x2 && region.y1 < region.y2)) {
    return fail("a region with x1 < x2 and y1 < y2", describeRect(region));
  }
  return { region, problems: [] };
}

/**
 * Parses the text of a label file: validates every line, drops exact duplicates (counted), settles the image's
 * region (all lines must agree; `sidecarText`, when given, must agree too or supplies it) and, when `imageSize` is
 * known, checks the region against the image and every box centre against the region.
 */
export function parseLldLabelText(
  text: string,
  file: string,
  options: LldReadOptions = {},
  sidecar?: { text: string; file: string },
): LldLabelFile {
  const result: LldLabelFile = {
    labels: [],
    lineNumbers: [],
    region: null,
    regionSource: "none",
    problems: [],
    duplicates: 0,
    readmeLines: 0,
  };
  const seen = new Map<string, number>();
  let firstRegionLine = 0;
  let firstForm: { form: LldLineForm; line: number } | undefined;
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  const maxLines = options.maxLines ?? MAX_LABEL_LINES;
  if (lines.length > maxLines) {
    result.problems.push({
      severity: "error",
      kind: "limit-exceeded",
      file,
      expected: `at most ${maxLines} lines (objects) in a label file`,
      found: `${lines.length} lines`,
      consequence: "file skipped",
    });
    return result;
  }
  lines.forEach((content, i) => {
    const line = i + 1;
    if (content.trim() === "") return;
    const parsed = parseLldLine(content, options);
    for (const p of parsed.problems) result.problems.push({ ...p, file, line });
    if (!parsed.line) return;
    const key = content.trim().split(/\s+/).map(parseField).join(" ");
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      result.duplicates++;
      result.problems.push({
        severity: "warning",
        kind: "duplicate-line",
        file,
        line,
        expected: "each object once",
        found: `a copy of line ${earlier}`,
        consequence: "dropped",
      });
      return;
    }
    seen.set(key, line);
    const { label, region, form } = parsed.line;
    if (form === "readme") result.readmeLines++;
    const hasRegionColumns = form === "lld" || form === "readme";
    if (!firstForm) firstForm = { form, line };
    else if (hasRegionColumns !== (firstForm.form === "lld" || firstForm.form === "readme")) {
      result.problems.push({
        severity: "error",
        kind: "region-inconsistent",
        file,
        line,
        expected: `the same region on every line (line ${firstForm.line} ${hasRegionColumns ? "has none" : "has one"})`,
        found: hasRegionColumns ? "a line with a region" : "a line without a region",
      });
    }
    if (region) {
      if (!result.region) {
        result.region = region;
        result.regionSource = "lines";
        firstRegionLine = line;
      } else if (!regionsEqual(region, result.region)) {
        result.problems.push({
          severity: "error",
          kind: "region-inconsistent",
          file,
          line,
          expected: `the image's region on every line (line ${firstRegionLine}: ${describeRect(result.region)})`,
          found: describeRect(region),
        });
      }
    }
    result.labels.push(label);
    result.lineNumbers.push(line);
  });

  if (sidecar) {
    const parsed = parseRegionSidecar(sidecar.text, sidecar.file, options);
    pushAll(result.problems, parsed.problems);
    if (parsed.region) {
      if (!result.region) {
        result.region = parsed.region;
        result.regionSource = "sidecar";
      } else if (!regionsEqual(parsed.region, result.region)) {
        result.problems.push({
          severity: "error",
          kind: "region-inconsistent",
          file: sidecar.file,
          line: 1,
          expected: `the region of the label lines (${file}:${firstRegionLine}: ${describeRect(result.region)})`,
          found: describeRect(parsed.region),
        });
      }
    }
  }

  const size = options.imageSize;
  if (size && result.region) checkRegionAgainstImage(result, file, size, firstRegionLine);
  return result;
}

function checkRegionAgainstImage(result: LldLabelFile, file: string, size: ImageSize, regionLine: number): void {
  const region = result.region;
  if (!region) return;
  const where = result.regionSource === "sidecar" ? {} : { line: regionLine };
  const tol = 1;
  if (region.x1 < -tol || region.y1 < -tol || region.x2 > size.width + tol || region.y2 > size.height + tol) {
    result.problems.push({
      severity: "error",
      kind: "region-invalid",
      file,
      ...where,
      expected: `a region inside the ${size.width}×${size.height} image (pixels; see region_order/region_units)`,
      found: describeRect(region),
    });
    return;
  }
  result.labels.forEach((label, i) => {
    const cx = label.xc * size.width;
    const cy = label.yc * size.height;
    const half = 0.5;
    if (cx < region.x1 - half || cx > region.x2 + half || cy < region.y1 - half || cy > region.y2 + half) {
      result.problems.push({
        severity: "error",
        kind: "centre-outside-region",
        file,
        line: result.lineNumbers[i] ?? 0,
        expected: `the box centre inside the region ${describeRect(region)}`,
        found: `centre (${formatNumber(cx, 1)}, ${formatNumber(cy, 1)}) px`,
      });
    }
  });
}

/** The text of `path` (undefined when it does not exist), or the problem that keeps it from being read. */
function readTextOrProblem(path: string, maxBytes: number): { text?: string; problem?: DataProblem } {
  try {
    return { text: readBoundedText(path, maxBytes) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return {};
    const limit = e instanceof InputFileError;
    const tooLarge = limit && e.tooLarge;
    return {
      problem: {
        severity: "error",
        kind: tooLarge ? "limit-exceeded" : "unreadable-file",
        file: path,
        expected: `a readable regular text file of at most ${describeBytes(maxBytes)}`,
        found: limit ? e.reason : (code ?? String(e)),
        consequence: "file skipped",
      },
    };
  }
}

/**
 * Reads one image's label file and its region sidecar (both optional: no label file = no objects). See
 * {@link parseLldLabelText}. Never throws for a bad file: problems are returned.
 */
export function readLldLabelFile(path: string, options: LldReadOptions = {}): LldLabelFile & { exists: boolean } {
  const label = readTextOrProblem(path, MAX_LABEL_FILE_BYTES);
  const sidecarFile = regionSidecarPath(path);
  const side = readTextOrProblem(sidecarFile, MAX_REGION_FILE_BYTES);
  const text = label.text ?? "";
  const parsed = parseLldLabelText(
    text,
    path,
    options,
    side.text !== undefined ? { text: side.text, file: sidecarFile } : undefined,
  );
  for (const p of [label.problem, side.problem]) if (p) parsed.problems.unshift(p);
  return { ...parsed, exists: label.text !== undefined };
}
