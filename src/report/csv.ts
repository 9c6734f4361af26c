/** Tables of the run folder's CSV files for the report (the reader itself is src/util/csv.ts). */
import { parseCsv } from "../util/csv.js";

export { parseCsv };

/** A CSV with a header: the column names and the rows as records (fields trimmed). */
export interface CsvTable {
  columns: string[];
  rows: Record<string, string>[];
}

/** Parses CSV text with a header line; throws when a row has more fields than the header. */
export function parseCsvTable(text: string): CsvTable {
  const [header, ...lines] = parseCsv(text);
  if (!header) throw new Error("empty file");
  const columns = header.map((c) => c.trim());
  const rows = lines.map((fields, k) => {
    if (fields.length > columns.length)
      throw new Error(`line ${k + 2}: ${fields.length} fields, the header has ${columns.length}`);
    return Object.fromEntries(columns.map((c, j) => [c, (fields[j] ?? "").trim()]));
  });
  return { columns, rows };
}

/** A field as a number: NaN when empty or not a number. */
export function num(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return Number.NaN;
  return Number(value);
}
