/** HTML building blocks of the report: escaping, number formatting, and the page around the sections. */
import { CSS } from "./style.js";

/** Escapes text for HTML content and double-quoted attribute values. */
export function esc(value: unknown): string {
  return String(value)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A metric with `digits` decimals; "–" for a missing or non-finite value. */
export function fmt(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
}

/** An integer with thousands separators; "–" when missing. */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? "–"
    : Math.round(value).toLocaleString("en");
}

/** A fraction as a percentage. */
export function pct(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "–" : `${(100 * value).toFixed(digits)}%`;
}

/** One section of the page: its anchor, its title in the nav and as heading, and its HTML. */
export interface Section {
  id: string;
  title: string;
  body: string;
}

/** A headline number. */
export interface Card {
  label: string;
  value: string;
  /** Meaningless on this data (shown struck through, with the reason as tooltip). */
  meaningless?: string;
}

export function cards(items: readonly Card[]): string {
  const card = (c: Card) =>
    `<div class="card${c.meaningless ? " meaningless" : ""}"${c.meaningless ? ` title="${esc(c.meaningless)}"` : ""}>` +
    `<div class="value">${esc(c.value)}</div><div class="label">${esc(c.label)}</div></div>`;
  return `<div class="cards">${items.map(card).join("")}</div>`;
}

/** A boxed note; `kind` "warn" for caveats, "bad" for problems. */
export function callout(html: string, kind: "note" | "warn" | "bad" = "note"): string {
  return `<div class="callout ${kind}">${html}</div>`;
}

export interface PageOptions {
  title: string;
  /** The kind of run in words, under the title. */
  kind: string;
  /** Label and value pairs of the header (run folder, weights, data, date, …). */
  facts: ReadonlyArray<readonly [string, string]>;
  sections: readonly Section[];
  footer: string;
}

/** The whole document: header, section nav, sections, footer; one file with its style inline. */
export function page(options: PageOptions): string {
  const facts = options.facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
  const nav = options.sections.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join("");
  const body = options.sections
    .map((s) => `<section id="${esc(s.id)}">\n<h2>${esc(s.title)}</h2>\n${s.body}\n</section>`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top">
<h1>${esc(options.title)}</h1>
<div class="kind">${esc(options.kind)}</div>
<dl class="facts">${facts}</dl>
</header>
<nav class="sections" aria-label="Sections">${nav}</nav>
<main>
${body}
</main>
<footer>${esc(options.footer)}</footer>
</body>
</html>
`;
}
