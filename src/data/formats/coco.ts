/**
 * COCO JSON with sladet's two additions (both optional for readers of plain COCO):
 * - `images[].labelled_region`: the image's labelled region `[x1, y1, x2, y2]` in pixels of the stored image, or null
 *   (absent) for a fully labelled image;
 * - `annotations[].attributes`: an object `{ "<attribute name>": "<value name>" | null }` (null = unknown), and a
 *   top-level `attribute_schema` (`[{ name, code, values }]`, the order of the label columns a0..a6). An annotation
 *   without `attributes` has none (plain detection data). Readers also accept value indices instead of names.
 * Category ids are class index + 1 (COCO reserves 0); readers map categories to classes by name when class names are
 * given, else by ascending id. `bbox` is `[x, y, width, height]` in pixels. Lossless round trip with LLD files: box
 * numbers survive to well below the 6 decimals LLD files keep.
 */
import { readBoundedText } from "../../util/bounded-read.js";
import { writeFileAtomic } from "../../util/fs.js";
import { MAX_COCO_JSON_BYTES } from "../limits.js";
import { DataFormatError, type DataProblem } from "../problems.js";
import {
  type AttributeSpec,
  type CellLabel,
  type ImageAnnotation,
  isKnownAttribute,
  type PixelRect,
  UNKNOWN_ATTRIBUTE,
} from "../schema.js";

/** One image entry. */
export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  /** sladet: labelled region `[x1, y1, x2, y2]` in pixels; null or absent = dense. */
  labelled_region?: [number, number, number, number] | null;
}

/** One object. */
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** `[x, y, width, height]` in pixels. */
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0 | 1;
  segmentation?: unknown;
  /** sladet: attribute name → value name (or index); null = unknown. */
  attributes?: Record<string, string | number | null>;
}

/** One category. */
export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}

/** A COCO dataset (the parts sladet reads and writes). */
export interface CocoDataset {
  info?: Record<string, unknown>;
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  /** sladet: the attribute schema, in label-column order. */
  attribute_schema?: AttributeSpec[];
}

/** Options of {@link toCocoDataset}. */
export interface ToCocoOptions {
  /** Class names, index = class id. */
  classNames: readonly string[];
  /** Attribute schema; when absent, attributes are not written. @default undefined */
  attributes?: readonly AttributeSpec[];
  /** Folder that `file_name`s are made relative to; absent = image paths written as given. @default undefined */
  imageRoot?: string;
}

function relativeName(image: string, root?: string): string {
  if (!root) return image;
  const norm = (p: string) => p.replace(/\\/g, "/").replace(/\/+$/, "");
  const r = `${norm(root)}/`;
  const i = norm(image);
  return i.startsWith(r) ? i.slice(r.length) : i;
}

/** Converts annotations to a COCO dataset (image ids from 1, annotation ids from 1, category id = class + 1). */
export function toCocoDataset(annotations: ImageAnnotation[], options: ToCocoOptions): CocoDataset {
  const { classNames, attributes } = options;
  const images: CocoImage[] = [];
  const objects: CocoAnnotation[] = [];
  annotations.forEach((a, index) => {
    const id = index + 1;
    images.push({
      id,
      file_name: relativeName(a.image, options.imageRoot),
      width: a.width,
      height: a.height,
      labelled_region: a.region ? [a.region.x1, a.region.y1, a.region.x2, a.region.y2] : null,
    });
    for (const label of a.labels) {
      if (!Number.isInteger(label.cls) || label.cls < 0 || label.cls >= classNames.length) {
        throw new RangeError(`${a.image}: class ${label.cls} has no name (classNames has ${classNames.length})`);
      }
      const w = label.w * a.width;
      const h = label.h * a.height;
      const object: CocoAnnotation = {
        id: objects.length + 1,
        image_id: id,
        category_id: label.cls + 1,
        bbox: [label.xc * a.width - w / 2, label.yc * a.height - h / 2, w, h],
        area: w * h,
        iscrowd: 0,
      };
      if (attributes && label.attributes.length > 0) {
        object.attributes = Object.fromEntries(
          attributes.map((spec, i) => {
            const v = label.attributes[i] ?? UNKNOWN_ATTRIBUTE;
            return [spec.name, isKnownAttribute(v, i, attributes) ? (spec.values[v] ?? null) : null];
          }),
        );
      }
      objects.push(object);
    }
  });
  const dataset: CocoDataset = {
    info: { description: "written by sladet", version: "1", date_created: new Date().toISOString() },
    images,
    annotations: objects,
    categories: classNames.map((name, i) => ({ id: i + 1, name, supercategory: "cell" })),
  };
  if (attributes)
    dataset.attribute_schema = attributes.map((s) => ({ name: s.name, code: s.code, values: [...s.values] }));
  return dataset;
}

/** Writes a COCO dataset as JSON, atomically. */
export function writeCocoJson(path: string, dataset: CocoDataset): void {
  writeFileAtomic(path, `${JSON.stringify(dataset)}\n`);
}

/** Options of {@link fromCocoDataset}. */
export interface FromCocoOptions {
  /** Class names to map categories onto (by name); absent = categories by ascending id. @default undefined */
  classNames?: readonly string[];
  /** Attribute schema to read attributes with; absent = the file's `attribute_schema`. @default undefined */
  attributes?: readonly AttributeSpec[];
  /** Name used in problems. @default "COCO JSON" */
  file?: string;
}

/** Result of {@link fromCocoDataset}. */
export interface FromCocoResult {
  annotations: ImageAnnotation[];
  classNames: string[];
  attributes: readonly AttributeSpec[] | undefined;
  /** Objects not converted, with the reason (degenerate box, unknown category, …). */
  problems: DataProblem[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Converts a COCO dataset to annotations (image paths = `file_name` as written). Malformed structure throws a
 * {@link DataFormatError}; objects that cannot be converted are skipped and reported.
 */
export function fromCocoDataset(json: unknown, options: FromCocoOptions = {}): FromCocoResult {
  const file = options.file ?? "COCO JSON";
  const fail = (expected: string, found: string): never => {
    throw new DataFormatError({ severity: "error", kind: "annotation", file, expected, found });
  };
  if (!isRecord(json)) fail("a JSON object with images, annotations and categories", typeof json);
  const root = json as Record<string, unknown>;
  for (const key of ["images", "annotations", "categories"]) {
    if (!Array.isArray(root[key])) fail(`an array "${key}"`, root[key] === undefined ? "none" : typeof root[key]);
  }
  const problems: DataProblem[] = [];
  const skip = (where: string, expected: string, found: string): void => {
    problems.push({
      severity: "warning",
      kind: "annotation",
      file,
      expected: `${where}: ${expected}`,
      found,
      consequence: "skipped",
    });
  };

  // Categories → class index.
  const categories = (root["categories"] as unknown[]).filter(isRecord);
  const sorted = [...categories]
    .filter((c) => finite(c["id"]))
    .sort((a, b) => (a["id"] as number) - (b["id"] as number));
  const classNames = options.classNames ? [...options.classNames] : sorted.map((c) => String(c["name"] ?? c["id"]));
  const classOf = new Map<number, number>();
  sorted.forEach((c, i) => {
    if (options.classNames) {
      const index = options.classNames.indexOf(String(c["name"]));
      if (index >= 0) classOf.set(c["id"] as number, index);
    } else classOf.set(c["id"] as number, i);
  });

  // Attribute schema.
  let attributes = options.attributes;
  if (!attributes && Array.isArray(root["attribute_schema"])) {
    attributes = (root["attribute_schema"] as unknown[]).map((s, i) => {
      if (!isRecord(s) || typeof s["name"] !== "string" || !Array.isArray(s["values"])) {
        return fail(`attribute_schema[${i}] = { name, values }`, JSON.stringify(s)?.slice(0, 80) ?? "");
      }
      return { name: s["name"], code: String(s["code"] ?? s["name"]), values: (s["values"] as unknown[]).map(String) };
    });
  }

  // Images.
  const byId = new Map<number, ImageAnnotation>();
  const annotations: ImageAnnotation[] = [];
  for (const [i, img] of (root["images"] as unknown[]).entries()) {
    if (!isRecord(img) || !finite(img["id"]) || typeof img["file_name"] !== "string") {
      return fail(`images[${i}] with a numeric id and a file_name`, JSON.stringify(img)?.slice(0, 80) ?? "");
    }
    const width = img["width"];
    const height = img["height"];
    if (!finite(width) || !finite(height) || width <= 0 || height <= 0) {
      return fail(`images[${i}] (${img["file_name"]}) with positive width and height`, `${width}×${height}`);
    }
    let region: PixelRect | null = null;
    const lr = img["labelled_region"];
    if (lr !== undefined && lr !== null) {
      const [x1, y1, x2, y2] = Array.isArray(lr) && lr.length === 4 && lr.every(finite) ? lr : [];
      if (x1 === undefined || y1 === undefined || x2 === undefined || y2 === undefined || !(x1 < x2 && y1 < y2)) {
        return fail(`images[${i}].labelled_region = [x1, y1, x2, y2] with x1 < x2, y1 < y2`, JSON.stringify(lr));
      }
      region = { x1, y1, x2, y2 };
    }
    const annotation: ImageAnnotation = { image: img["file_name"], width, height, region, labels: [] };
    if (byId.has(img["id"])) fail(`a unique image id`, `id ${img["id"]} twice`);
    byId.set(img["id"], annotation);
    annotations.push(annotation);
  }

  // Objects.
  for (const [i, obj] of (root["annotations"] as unknown[]).entries()) {
    const where = `annotations[${i}]`;
    if (!isRecord(obj)) {
      skip(where, "an object", JSON.stringify(obj)?.slice(0, 80) ?? "");
      continue;
    }
    const image = finite(obj["image_id"]) ? byId.get(obj["image_id"]) : undefined;
    if (!image) {
      skip(where, "an image_id of an image", String(obj["image_id"]));
      continue;
    }
    const cls = finite(obj["category_id"]) ? classOf.get(obj["category_id"]) : undefined;
    if (cls === undefined) {
      skip(where, "a category_id of a known category", String(obj["category_id"]));
      continue;
    }
    if (obj["iscrowd"] === 1) {
      skip(where, "an individual object", "iscrowd 1");
      continue;
    }
    const bbox = obj["bbox"];
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(finite)) {
      skip(where, "bbox [x, y, w, h]", JSON.stringify(bbox));
      continue;
    }
    let [x, y, w, h] = bbox as [number, number, number, number];
    // Boxes sticking out by less than half a pixel (rounding of normalised numbers) are kept as they are, so a
    // round trip with LLD files changes nothing; boxes further out are clipped to the image and reported.
    const tol = 0.5;
    if (x < -tol || y < -tol || x + w > image.width + tol || y + h > image.height + tol) {
      const x2 = Math.min(x + w, image.width);
      const y2 = Math.min(y + h, image.height);
      x = Math.max(0, x);
      y = Math.max(0, y);
      [w, h] = [x2 - x, y2 - y];
      if (w > 0 && h > 0) {
        problems.push({
          severity: "warning",
          kind: "box-outside-image",
          file,
          expected: `${where}: a box inside the ${image.width}×${image.height} image`,
          found: JSON.stringify(bbox),
          consequence: "clipped to the image",
        });
      }
    }
    if (w <= 0 || h <= 0) {
      skip(where, "a box with positive width and height inside the image", JSON.stringify(bbox));
      continue;
    }
    const label: CellLabel = {
      cls,
      xc: (x + w / 2) / image.width,
      yc: (y + h / 2) / image.height,
      w: w / image.width,
      h: h / image.height,
      attributes: [],
    };
    const attrs = obj["attributes"];
    if (attributes && isRecord(attrs)) {
      label.attributes = attributes.map((spec) => {
        const v = attrs[spec.name];
        if (typeof v === "number")
          return Number.isInteger(v) && v >= 0 && v < spec.values.length ? v : UNKNOWN_ATTRIBUTE;
        if (typeof v === "string") {
          const index = spec.values.indexOf(v);
          return index;
        }
        return UNKNOWN_ATTRIBUTE;
      });
    }
    image.labels.push(label);
  }
  return { annotations, classNames, attributes, problems };
}

/** Reads a COCO JSON file (see {@link fromCocoDataset}); malformed JSON throws a {@link DataFormatError}. */
export function readCocoJson(path: string, options: Omit<FromCocoOptions, "file"> = {}): FromCocoResult {
  let json: unknown;
  try {
    json = JSON.parse(readBoundedText(path, MAX_COCO_JSON_BYTES));
  } catch (e) {
    throw new DataFormatError({
      severity: "error",
      kind: "annotation",
      file: path,
      expected: "a readable COCO JSON file",
      found: e instanceof Error ? e.message : String(e),
    });
  }
  return fromCocoDataset(json, { ...options, file: path });
}
