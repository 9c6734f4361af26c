/** A small CSV reader for the run folder's own files: comma-separated, double-quoted fields with "" escapes. */

/** Splits CSV text into rows of fields (a trailing newline ends the last row; blank lines are skipped). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== "") rows.push(row);
    row = [];
    field = "";
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
    } else field += c;
    i++;
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (field !== "" || row.length > 0) endRow();
  return rows;
}

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
