/**
 * Pascal VOC XML import (one `<annotation>` file per image, e.g. BCCD). VOC box corners are 1-based pixel indices;
 * they are read as continuous coordinates `x1 = xmin − 1`, `x2 = xmax − 1` (width = xmax − xmin, the rule YOLOv5's
 * VOC converter uses), clipped to the image. A box with zero or negative width or height after clipping is
 * degenerate: it is dropped and reported, never silently kept as a 1-pixel box.
 */
import { XMLParser } from "fast-xml-parser";
import type { DataProblem } from "../problems.js";
import type { CellLabel, ImageAnnotation } from "../schema.js";

/** One object of a VOC file, in continuous pixel coordinates (0-based). */
export interface VocObject {
  name: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  difficult: boolean;
  truncated: boolean;
}

/** A parsed VOC file. */
export interface VocFile {
  /** `<filename>` as written (may be empty). */
  filename: string;
  /** `<size>`; 0 when absent. */
  width: number;
  height: number;
  /** Valid objects (degenerate or malformed ones are in `problems`). */
  objects: VocObject[];
  /** Objects dropped and why; malformed files give one error. */
  problems: DataProblem[];
}

/** Options of {@link parseVocXml}. */
export interface VocReadOptions {
  /** Image size to use when the file's `<size>` is missing or zero (or to override it). @default undefined */
  imageSize?: { width: number; height: number };
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === "object",
});

function text(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "object" ? "" : String(v).trim();
}

function lineOfObject(source: string, index: number): number | undefined {
  let at = -1;
  for (let i = 0; i <= index; i++) {
    at = source.indexOf("<object", at + 1);
    if (at < 0) return undefined;
  }
  return source.slice(0, at).split("\n").length;
}

/** Parses one VOC XML file. Never throws: a file that is not VOC XML gives one error problem and no objects. */
export function parseVocXml(source: string, file: string, options: VocReadOptions = {}): VocFile {
  const result: VocFile = { filename: "", width: 0, height: 0, objects: [], problems: [] };
  let doc: unknown;
  try {
    doc = parser.parse(source, true);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const line = /Line:?\s*(\d+)/i.exec(message)?.[1];
    result.problems.push({
      severity: "error",
      kind: "annotation",
      file,
      ...(line ? { line: Number(line) } : {}),
      expected: "well-formed XML",
      found: message.split("\n")[0] ?? "a syntax error",
      consequence: "file skipped",
    });
    return result;
  }
  const ann = (doc as { annotation?: Record<string, unknown> } | null)?.annotation;
  if (!ann || typeof ann !== "object") {
    result.problems.push({
      severity: "error",
      kind: "annotation",
      file,
      expected: "a VOC <annotation> element",
      found: "none",
      consequence: "file skipped",
    });
    return result;
  }
  result.filename = text(ann["filename"]);
  const size = (ann["size"] ?? {}) as Record<string, unknown>;
  result.width = Number(text(size["width"])) || 0;
  result.height = Number(text(size["height"])) || 0;
  const width = options.imageSize?.width ?? result.width;
  const height = options.imageSize?.height ?? result.height;
  if (!(width > 0 && height > 0)) {
    result.problems.push({
      severity: "error",
      kind: "annotation",
      file,
      expected: "<size> with positive <width> and <height>",
      found: `${text(size["width"]) || "none"}×${text(size["height"]) || "none"}`,
      consequence: "file skipped",
    });
    return result;
  }
  const objects = (ann["object"] ?? []) as Array<Record<string, unknown>>;
  objects.forEach((obj, i) => {
    const line = lineOfObject(source, i);
    const where = { file, ...(line ? { line } : {}) };
    const name = text(obj["name"]);
    const box = (obj["bndbox"] ?? {}) as Record<string, unknown>;
    const raw = ["xmin", "ymin", "xmax", "ymax"].map((k) => text(box[k]));
    const [xmin, ymin, xmax, ymax] = raw.map(Number) as [number, number, number, number];
    if (name === "" || raw.some((v) => v === "" || !Number.isFinite(Number(v)))) {
      result.problems.push({
        severity: "warning",
        kind: "annotation",
        ...where,
        expected: "an object with <name> and numeric <bndbox> xmin ymin xmax ymax",
        found: `name ${JSON.stringify(name)}, box ${raw.map((v) => v || "?").join(" ")}`,
        consequence: "object dropped",
      });
      return;
    }
    const x1 = Math.max(0, xmin - 1);
    const y1 = Math.max(0, ymin - 1);
    const x2 = Math.min(width, xmax - 1);
    const y2 = Math.min(height, ymax - 1);
    if (!(x2 > x1 && y2 > y1)) {
      result.problems.push({
        severity: "warning",
        kind: "zero-area-box",
        ...where,
        expected: "a box with xmax > xmin and ymax > ymin inside the image",
        found: `degenerate ${name} box xmin ${xmin} ymin ${ymin} xmax ${xmax} ymax ${ymax}`,
        consequence: "object dropped",
      });
      return;
    }
    result.objects.push({
      name,
      x1,
      y1,
      x2,
      y2,
      difficult: text(obj["difficult"]) === "1",
      truncated: text(obj["truncated"]) === "1",
    });
  });
  return result;
}

/**
 * Turns a parsed VOC file into an annotation (dense, no attributes). Objects whose name is not in `classIndex` are
 * dropped and reported.
 */
export function vocToAnnotation(
  voc: VocFile,
  image: string,
  classIndex: ReadonlyMap<string, number>,
  file: string,
  imageSize?: { width: number; height: number },
): { annotation: ImageAnnotation; problems: DataProblem[] } {
  const width = imageSize?.width ?? voc.width;
  const height = imageSize?.height ?? voc.height;
  const problems: DataProblem[] = [];
  const labels: CellLabel[] = [];
  for (const o of voc.objects) {
    const cls = classIndex.get(o.name);
    if (cls === undefined) {
      problems.push({
        severity: "warning",
        kind: "class-out-of-range",
        file,
        expected: `a class name in ${[...classIndex.keys()].join(", ")}`,
        found: JSON.stringify(o.name),
        consequence: "object dropped",
      });
      continue;
    }
    labels.push({
      cls,
      xc: (o.x1 + o.x2) / 2 / width,
      yc: (o.y1 + o.y2) / 2 / height,
      w: (o.x2 - o.x1) / width,
      h: (o.y2 - o.y1) / height,
      attributes: [],
    });
  }
  return { annotation: { image, width, height, region: null, labels }, problems };
}
