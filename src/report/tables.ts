/** HTML tables of the report; every cell is text (escaped here), never markup. */
import { esc } from "./html.js";

export interface Column {
  label: string;
  /** Right-aligned, tabular figures. @default false */
  numeric?: boolean;
  /** Tooltip of the header (what the column means). */
  title?: string;
}

export type Cell = string | { text: string; className?: string; title?: string };

export interface Row {
  cells: readonly Cell[];
  className?: string;
}

export interface TableOptions {
  caption?: string;
  /** The table's class besides "data" (e.g. for tests to find it). */
  className?: string;
}

/** A table with a header row; wrapped to scroll sideways when wider than the page. */
export function table(
  columns: readonly Column[],
  rows: readonly (Row | readonly Cell[])[],
  options: TableOptions = {},
) {
  const head = columns
    .map(
      (c) =>
        `<th${c.numeric ? ' class="num"' : ""}${c.title ? ` title="${esc(c.title)}"` : ""} scope="col">${esc(c.label)}</th>`,
    )
    .join("");
  const body = rows
    .map((r) => {
      const row: Row = Array.isArray(r) ? { cells: r as readonly Cell[] } : (r as Row);
      const cells = row.cells
        .map((cell, i) => {
          const c = typeof cell === "string" ? { text: cell } : cell;
          const classes = [columns[i]?.numeric ? "num" : "", c.className ?? ""].filter(Boolean).join(" ");
          return `<td${classes ? ` class="${esc(classes)}"` : ""}${c.title ? ` title="${esc(c.title)}"` : ""}>${esc(c.text)}</td>`;
        })
        .join("");
      return `<tr${row.className ? ` class="${esc(row.className)}"` : ""}>${cells}</tr>`;
    })
    .join("\n");
  const caption = options.caption ? `<caption>${esc(options.caption)}</caption>` : "";
  const cls = ["data", options.className ?? ""].filter(Boolean).join(" ");
  return `<div class="scroll"><table class="${esc(cls)}">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}
