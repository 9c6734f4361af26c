/**
 * Opens a report in headless Chromium (playwright-core, the system's /usr/bin/chromium: `sh tools/setup.sh --test`
 * installs it) and reads what a reader would see: the charts drawn, the table rows, the pictures loaded, and every
 * console message, page error and network request.
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * This process's environment without the allocator bin/sladet-node preloads for node (LD_PRELOAD jemalloc and its
 * MALLOC_CONF): Chromium aborts at start ("GPU process isn't usable") under jemalloc's background thread.
 */
export function browserEnv(): NodeJS.ProcessEnv {
  const { LD_PRELOAD: _preload, MALLOC_CONF: _conf, ...env } = process.env;
  return env;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run sh tools/setup.sh --test (apt package chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, env: browserEnv() });
}

export interface ChartFacts {
  name: string;
  width: number;
  height: number;
  /** Paths with a non-empty `d` and a non-zero bounding box. */
  drawnPaths: number;
}

export interface PageFacts {
  title: string;
  sections: string[];
  navLinks: string[];
  charts: ChartFacts[];
  /** Body rows per table, keyed by the table's class besides "data". */
  tables: Record<string, number>;
  /** naturalWidth of each gallery picture. */
  pictures: number[];
  /** Gallery figures whose picture was missing. */
  missingPictures: number;
  overlays: number;
  text: string;
}

/** Evaluated in the page (a string: the project compiles without the DOM types). */
const FACTS = `(() => {
  const charts = [...document.querySelectorAll("figure.chart")].map((f) => {
    const svg = f.querySelector("svg");
    const r = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    const drawnPaths = svg
      ? [...svg.querySelectorAll("path")].filter((p) => {
          const b = p.getBBox();
          return (p.getAttribute("d") || "").length > 0 && b.width + b.height > 0;
        }).length
      : 0;
    return { name: f.dataset.chart || "", width: r.width, height: r.height, drawnPaths };
  });
  const tables = {};
  for (const t of document.querySelectorAll("table.data")) {
    const key = [...t.classList].find((c) => c !== "data") || "table";
    tables[key] = (tables[key] || 0) + t.tBodies[0].rows.length;
  }
  return {
    title: document.title,
    sections: [...document.querySelectorAll("main > section")].map((s) => s.id),
    navLinks: [...document.querySelectorAll("nav.sections a")].map((a) => a.getAttribute("href")),
    charts,
    tables,
    pictures: [...document.querySelectorAll("figure.shot img")].map((i) => i.naturalWidth),
    missingPictures: document.querySelectorAll("figure.shot .missing").length,
    overlays: document.querySelectorAll("figure.shot svg.overlay").length,
    text: document.body.innerText,
  };
})()`;

export interface OpenedReport {
  page: Page;
  facts: PageFacts;
  /** Console messages and page errors. */
  errors: string[];
  /** URLs requested that are neither the file itself nor data: URIs. */
  foreignRequests: string[];
}

/** Loads the report (waits for the load event: every picture decoded) and reads its facts. */
export async function openReport(browser: Browser, path: string): Promise<OpenedReport> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const foreignRequests: string[] = [];
  const url = pathToFileURL(path).href;
  page.on("console", (m) => errors.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    if (r.url() !== url && !r.url().startsWith("data:")) foreignRequests.push(r.url());
  });
  await page.goto(url, { waitUntil: "load" });
  const facts = (await page.evaluate(FACTS)) as PageFacts;
  return { page, facts, errors, foreignRequests };
}

/** How many elements matching `selector` are displayed (CSS display not none). */
export async function visibleCount(page: Page, selector: string): Promise<number> {
  return (await page.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(selector)})].filter((e) => getComputedStyle(e).display !== "none").length`,
  )) as number;
}
