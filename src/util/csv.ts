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
