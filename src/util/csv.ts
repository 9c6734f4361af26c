/** CSV (RFC 4180: comma-separated, double-quoted fields with "" escapes): what every CSV sladet writes follows, and its reader. */

/** A field: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line of fields. */
export function csvLine(fields: readonly (string | number)[]): string {
  return fields.map(csvField).join(",");
}

/** CSV text whose quoted field never closes: `line` (1-based) is where its quote opened. */
export class CsvSyntaxError extends Error {
  constructor(readonly line: number) {
    super(`unterminated quoted field (its quote opens on line ${line})`);
  }
}

/** A row of fields and the line (1-based) of the text it starts on. */
export interface CsvRow {
  line: number;
  fields: string[];
}

/** Splits CSV text into rows of fields (a trailing newline ends the last row; blank lines are skipped). */
export function parseCsv(text: string): string[][] {
  return parseCsvRows(text).map((r) => r.fields);
}

/** {@link parseCsv} with the line each row starts on, for messages that name it. */
export function parseCsvRows(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 0;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== "") rows.push({ line: rowLine, fields: row });
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
      if (c === "\n") line++;
    } else if (c === '"') [quoted, quoteLine] = [true, line];
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
      rowLine = ++line;
    } else field += c;
    i++;
  }
  if (quoted) throw new CsvSyntaxError(quoteLine);
  if (field !== "" || row.length > 0) endRow();
  return rows;
}
