/**
 * Reads WBCAtt (attribute CSVs per split) with the PBC crops it annotates into annotations per split: one cell per
 * crop, its class and attributes mapped to LLD (formats/wbcatt.ts), its box found by stain colour (stain-box.ts),
 * the labelled region the whole crop. Images are decoded one at a time per worker slot and dropped after their box is
 * found (17k crops stream through in constant memory).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pushAll } from "../util/arrays.js";
import { mapPool } from "../util/async.js";
import { readBoundedText } from "../util/bounded-read.js";
import { progress } from "../util/progress.js";
import type { SplitAnnotations } from "./dataset-writer.js";
import { SPLITS, type Split } from "./dataset-yaml.js";
import { parseWbcattCsv, WBCATT_SPLIT_FILES, type WbcattRow } from "./formats/wbcatt.js";
import { readImageRgb } from "./images.js";
import { MAX_WBCATT_CSV_BYTES } from "./limits.js";
import { DataFormatError, type DataProblem } from "./problems.js";
import type { ImageAnnotation } from "./schema.js";
import { findStainBox, type StainBoxFallback, type StainBoxOptions } from "./stain-box.js";

/** Options of {@link readWbcattDataset}. */
export interface WbcattSourceOptions {
  /** Folder that holds PBC_dataset_normal_DIB/ (the CSVs' `path` column is relative to it). */
  images: string;
  /** Box finder thresholds. @default STAIN_BOX_DEFAULTS */
  box?: StainBoxOptions;
  /** Images decoded at once. @default 2 */
  concurrency?: number;
  /** Hide the progress display. @default false */
  silent?: boolean;
}

/** What {@link readWbcattDataset} read. */
export interface WbcattDataset {
  splits: SplitAnnotations;
  /** Rows skipped, values read as unknown, fallback boxes. */
  problems: DataProblem[];
  /** Crops whose box is the central fallback, per reason. */
  boxFallbacks: Record<StainBoxFallback, number>;
}

/** The CSV rows of every split present under `src`; throws when there is none. */
function readSplitCsvs(src: string): { rows: Array<[Split, WbcattRow]>; problems: DataProblem[] } {
  const present = SPLITS.filter((s) => existsSync(join(src, WBCATT_SPLIT_FILES[s])));
  if (present.length === 0) {
    throw new DataFormatError({
      severity: "error",
      kind: "split-missing",
      file: src,
      expected: `WBCAtt CSVs ${Object.values(WBCATT_SPLIT_FILES).join(", ")} (its submission/ folder)`,
      found: existsSync(src) ? "none of them" : "no such folder",
    });
  }
  const rows: Array<[Split, WbcattRow]> = [];
  const problems: DataProblem[] = [];
  for (const split of present) {
    const file = join(src, WBCATT_SPLIT_FILES[split]);
    const csv = parseWbcattCsv(readBoundedText(file, MAX_WBCATT_CSV_BYTES), file);
    pushAll(problems, csv.problems);
    for (const row of csv.rows) rows.push([split, row]);
  }
  return { rows, problems };
}

/** Each fallback in words. */
const FALLBACK_REASONS: Record<StainBoxFallback, string> = {
  "no-stain": "no stained region large enough",
  "implausible-box": "a stained region too small to be the cell",
  "background-stained": "the whole crop stained, even against its own background tint",
};

/** The annotation of one row's crop, or the problem that keeps it out. */
async function annotateRow(
  row: WbcattRow,
  options: WbcattSourceOptions,
): Promise<{ annotation?: ImageAnnotation; problem?: DataProblem; fallback?: StainBoxFallback }> {
  const image = join(options.images, row.path);
  const where = { file: row.file, line: row.line };
  if (!existsSync(image)) {
    const expected = `its image ${row.path} under ${options.images}`;
    return {
      problem: {
        severity: "warning",
        kind: "image-missing",
        ...where,
        expected,
        found: "none",
        consequence: "row skipped",
      },
    };
  }
  let pixels: Awaited<ReturnType<typeof readImageRgb>>;
  try {
    pixels = await readImageRgb(image);
  } catch (e) {
    const found = e instanceof Error ? e.message : String(e);
    return {
      problem: {
        severity: "warning",
        kind: "image-corrupt",
        file: image,
        expected: "a readable image",
        found,
        consequence: "row skipped",
      },
    };
  }
  const { width, height } = pixels;
  const { box, fallback } = findStainBox(pixels, options.box);
  const label = {
    cls: row.cls,
    xc: (box.x1 + box.x2) / 2 / width,
    yc: (box.y1 + box.y2) / 2 / height,
    w: (box.x2 - box.x1) / width,
    h: (box.y2 - box.y1) / height,
    attributes: row.attributes,
  };
  const annotation: ImageAnnotation = { image, width, height, region: null, labels: [label] };
  if (!fallback) return { annotation };
  const problem: DataProblem = {
    severity: "note",
    kind: "annotation",
    file: image,
    expected: "a white cell found by stain colour",
    found: FALLBACK_REASONS[fallback],
    consequence: `central box ${box.x1} ${box.y1} ${box.x2} ${box.y2} used`,
  };
  return { annotation, problem, fallback };
}

/**
 * Reads WBCAtt: `src` holds `pbc_attr_v1_{train,val,test}.csv` (at least one), `options.images` the folder with
 * PBC_dataset_normal_DIB/. Every split keeps WBCAtt's own rows; rows that cannot be used are reported and skipped.
 */
export async function readWbcattDataset(src: string, options: WbcattSourceOptions): Promise<WbcattDataset> {
  const { rows, problems } = readSplitCsvs(src);
  const bar = progress({ total: rows.length, label: "read wbcatt", unit: "img", silent: options.silent ?? false });
  const results = await mapPool(rows, options.concurrency ?? 2, async ([split, row]) => {
    const result = await annotateRow(row, options);
    bar.tick();
    return { split, ...result };
  });
  bar.stop();
  const splits: SplitAnnotations = {};
  const boxFallbacks: Record<StainBoxFallback, number> = {
    "no-stain": 0,
    "implausible-box": 0,
    "background-stained": 0,
  };
  for (const r of results) {
    if (r.problem) problems.push(r.problem);
    if (r.fallback) boxFallbacks[r.fallback]++;
    if (!r.annotation) continue;
    const list = splits[r.split] ?? [];
    list.push(r.annotation);
    splits[r.split] = list;
  }
  return { splits, problems, boxFallbacks };
}
