/**
 * WBCAtt attribute CSVs (Tsutsui et al., NeurIPS 2023 Datasets; `submission/pbc_attr_v1_{train,val,test}.csv` of the
 * public repository apple2373/wbcatt, MIT licence) read as LLD labels. Each row annotates one PBC crop (Acevedo et al.
 * 2020, CC BY 4.0) with its cell type and 11 attributes; six of them map onto LLD's seven (schema.ts), Nucleolus has no
 * WBCAtt column and stays unknown. The mapping is the tables below; docs/wbcatt.md explains each choice.
 */
import { type CsvRow, CsvSyntaxError, parseCsvRows } from "../../util/csv.js";
import type { Split } from "../dataset-yaml.js";
import { type DataProblem, quote } from "../problems.js";
import { LLD_ATTRIBUTES, LLD_CLASS_NAMES, NUM_ATTRIBUTES, UNKNOWN_ATTRIBUTE } from "../schema.js";

/** The CSV file of each split, as the WBCAtt repository names them. */
export const WBCATT_SPLIT_FILES: Readonly<Record<Split, string>> = {
  train: "pbc_attr_v1_train.csv",
  val: "pbc_attr_v1_val.csv",
  test: "pbc_attr_v1_test.csv",
};

/** Columns a WBCAtt CSV must have (its header names them; any order, extra columns ignored). */
export const WBCATT_REQUIRED_COLUMNS = [
  "img_name",
  "label",
  "cell_size",
  "nucleus_shape",
  "nuclear_cytoplasmic_ratio",
  "chromatin_density",
  "cytoplasm_vacuole",
  "cytoplasm_colour",
  "path",
] as const;
type WbcattColumn = (typeof WBCATT_REQUIRED_COLUMNS)[number];

/** LLD class id of each WBCAtt cell type (all five PBC types WBCAtt annotates have an LLD class of the same name). */
export const WBCATT_CLASS_TO_LLD: Readonly<Record<string, number>> = {
  Neutrophil: LLD_CLASS_NAMES.indexOf("Neutrophil"),
  Eosinophil: LLD_CLASS_NAMES.indexOf("Eosinophil"),
  Basophil: LLD_CLASS_NAMES.indexOf("Basophil"),
  Lymphocyte: LLD_CLASS_NAMES.indexOf("Lymphocyte"),
  Monocyte: LLD_CLASS_NAMES.indexOf("Monocyte"),
};

/** Index of an LLD attribute by name (a0..a6). */
function lldAttribute(name: string): number {
  const index = LLD_ATTRIBUTES.findIndex((a) => a.name === name);
  if (index < 0) throw new Error(`no LLD attribute named ${name}`);
  return index;
}

/** Index of a value of an LLD attribute by name. */
function lldValue(attribute: string, value: string): number {
  const index = LLD_ATTRIBUTES[lldAttribute(attribute)]!.values.indexOf(value);
  if (index < 0) throw new Error(`LLD attribute ${attribute} has no value ${value}`);
  return index;
}

/** How one WBCAtt column becomes one LLD attribute: the LLD value of every WBCAtt value. */
export interface WbcattAttributeMapping {
  /** The WBCAtt column. */
  column: WbcattColumn;
  /** The LLD attribute's name (LLD_ATTRIBUTES). */
  attribute: string;
  /** WBCAtt value → LLD value name. A value not listed is reported and written as unknown. */
  values: Readonly<Record<string, string>>;
}

/**
 * The six WBCAtt columns that map onto LLD attributes (LLD's Nucleolus has no WBCAtt column: always unknown).
 * - cell_size big/small → Cell Size Large/Small; WBCAtt has no medium, so LLD's Medium never occurs.
 * - chromatin_density densely/loosely → Nuclear Chromatin Coarse/Open.
 * - nucleus_shape → Nuclear Shape: only unsegmented-round is Regular (a smooth round/oval outline, as sladet's own
 *   films draw Regular); band, indented, segmented (bi-/multilobed) and irregular nuclei are Irregular, the forms an
 *   Irregular nucleus takes in LLD's morphology (lobed, bilobed, kidney, folded, cleft).
 * - nuclear_cytoplasmic_ratio high/low → Cytoplasm Scanty/Abundant (a high N:C ratio is little cytoplasm).
 * - cytoplasm_colour light blue → Cytoplasmic Basophilia Slight; blue and purple blue → Moderate (deeper blue =
 *   more basophilic cytoplasm; LLD has two grades).
 * - cytoplasm_vacuole no/yes → Cytoplasmic Vacuoles Absent/Prominent.
 */
export const WBCATT_ATTRIBUTE_MAPPINGS: readonly WbcattAttributeMapping[] = [
  { column: "cell_size", attribute: "Cell Size", values: { big: "Large", small: "Small" } },
  { column: "chromatin_density", attribute: "Nuclear Chromatin", values: { densely: "Coarse", loosely: "Open" } },
  {
    column: "nucleus_shape",
    attribute: "Nuclear Shape",
    values: {
      "unsegmented-round": "Regular",
      "unsegmented-band": "Irregular",
      "unsegmented-indented": "Irregular",
      "segmented-bilobed": "Irregular",
      "segmented-multilobed": "Irregular",
      irregular: "Irregular",
    },
  },
  { column: "nuclear_cytoplasmic_ratio", attribute: "Cytoplasm", values: { high: "Scanty", low: "Abundant" } },
  {
    column: "cytoplasm_colour",
    attribute: "Cytoplasmic Basophilia",
    values: { "light blue": "Slight", blue: "Moderate", "purple blue": "Moderate" },
  },
  { column: "cytoplasm_vacuole", attribute: "Cytoplasmic Vacuoles", values: { no: "Absent", yes: "Prominent" } },
];

/** One usable row of a WBCAtt CSV. */
export interface WbcattRow {
  /** The CSV file and 1-based line the row came from. */
  file: string;
  line: number;
  /** `img_name`. */
  name: string;
  /** `path`: the image relative to the folder that holds PBC_dataset_normal_DIB. */
  path: string;
  /** LLD class id. */
  cls: number;
  /** a0..a6 (UNKNOWN_ATTRIBUTE where WBCAtt has no column or an unexpected value). */
  attributes: number[];
}

/** Rows read from one CSV, and what was skipped or read as unknown. */
export interface WbcattCsv {
  rows: WbcattRow[];
  problems: DataProblem[];
}

/** The column index of every required column; throws a problem naming the missing ones. */
function headerColumns(header: string[], file: string): Record<WbcattColumn, number> | DataProblem {
  const missing = WBCATT_REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    return {
      severity: "error",
      kind: "annotation",
      file,
      line: 1,
      expected: `a WBCAtt header with the columns ${WBCATT_REQUIRED_COLUMNS.join(", ")}`,
      found: `no ${missing.join(", ")} in ${quote(header.join(","))}`,
      consequence: "file skipped",
    };
  }
  return Object.fromEntries(WBCATT_REQUIRED_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<WbcattColumn, number>;
}

/** The LLD attributes of one row; unexpected values become unknown and are reported. */
function mapAttributes(
  fields: string[],
  columns: Record<WbcattColumn, number>,
  where: { file: string; line: number },
  problems: DataProblem[],
): number[] {
  const attributes = new Array<number>(NUM_ATTRIBUTES).fill(UNKNOWN_ATTRIBUTE);
  for (const m of WBCATT_ATTRIBUTE_MAPPINGS) {
    const raw = fields[columns[m.column]] ?? "";
    const value = m.values[raw];
    if (value === undefined) {
      problems.push({
        severity: "warning",
        kind: "attribute-out-of-set",
        ...where,
        expected: `${m.column} one of ${Object.keys(m.values).join(", ")}`,
        found: quote(raw),
        consequence: `${m.attribute} written as unknown`,
      });
      continue;
    }
    attributes[lldAttribute(m.attribute)] = lldValue(m.attribute, value);
  }
  return attributes;
}

/**
 * Reads one WBCAtt CSV's text. Never throws: a file without the required header or with a quote that never closes
 * gives one error; a row with the wrong number of fields, an unknown cell type or no image path is skipped with a
 * warning naming its line; an unexpected attribute value is written as unknown with a warning.
 */
export function parseWbcattCsv(text: string, file: string): WbcattCsv {
  let records: CsvRow[];
  try {
    records = parseCsvRows(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    if (!(e instanceof CsvSyntaxError)) throw e;
    const unclosed: DataProblem = {
      severity: "error",
      kind: "annotation",
      file,
      line: e.line,
      expected: "a closing quote",
      found: "a quote that opens here and never closes",
      consequence: "file skipped",
    };
    return { rows: [], problems: [unclosed] };
  }
  const header = trimmed(records[0]?.fields ?? [""]);
  const columns = headerColumns(header, file);
  if (!("img_name" in columns)) return { rows: [], problems: [columns] };
  const rows: WbcattRow[] = [];
  const problems: DataProblem[] = [];
  for (const record of records.slice(1)) {
    const row = readRow(trimmed(record.fields), header.length, columns, { file, line: record.line }, problems);
    if (row) rows.push(row);
  }
  return { rows, problems };
}

function trimmed(fields: readonly string[]): string[] {
  return fields.map((f) => f.trim());
}

/** One data row as a WbcattRow, or null (skipped with a warning in `problems`, or a line of spaces). */
function readRow(
  fields: string[],
  width: number,
  columns: Record<WbcattColumn, number>,
  where: { file: string; line: number },
  problems: DataProblem[],
): WbcattRow | null {
  if (fields.length === 1 && fields[0] === "") return null;
  const skip = (kind: DataProblem["kind"], expected: string, found: string) => {
    problems.push({ severity: "warning", kind, ...where, expected, found, consequence: "row skipped" });
    return null;
  };
  if (fields.length !== width)
    return skip("column-count", `${width} comma-separated fields as in the header`, `${fields.length}`);
  const label = fields[columns.label]!;
  const cls = WBCATT_CLASS_TO_LLD[label];
  if (cls === undefined)
    return skip("class-out-of-range", `label one of ${Object.keys(WBCATT_CLASS_TO_LLD).join(", ")}`, quote(label));
  const path = fields[columns.path]!;
  if (path === "") return skip("annotation", "an image path in the path column", "an empty field");
  const attributes = mapAttributes(fields, columns, where, problems);
  return { ...where, name: fields[columns.img_name]!, path, cls, attributes };
}
