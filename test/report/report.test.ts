/**
 * report.html from run folders the test writes itself (a phase-2 training run on sparse data with its final
 * validation, a detect run, an old run with only results.csv, a folder with broken files): the file is self-contained,
 * strings from files are escaped, and in headless Chromium the charts are drawn, the tables have their rows, the
 * pictures load, the layer switches work, and nothing is logged or fetched.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { attributeSummaryFromCsv, readRunArtifacts } from "../../src/report/artifacts.js";
import { parseCsv } from "../../src/report/csv.js";
import { esc } from "../../src/report/html.js";
import { writeRunReport } from "../../src/report/index.js";
import { CsvSyntaxError, parseCsvRows } from "../../src/util/csv.js";
import { launchBrowser, type OpenedReport, openReport, visibleCount } from "./browser.js";
import { attributeCsv, attributeSummary, EPOCHS, NAMES, writeFakeDetectRun, writeFakeTrainingRun } from "./fake-run.js";

const work = mkdtempSync(join(tmpdir(), "sladet-report-"));
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

/** No external resource: no http(s) src/href, no script or stylesheet file, no CSS url() to the network. */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i, "an external src/href");
  assert.doesNotMatch(html, /<script[^>]*\bsrc\s*=/i, "a script file");
  assert.doesNotMatch(html, /<link\b/i, "a linked resource");
  assert.doesNotMatch(html, /url\(\s*["']?(?:https?:)?\/\//i, "a CSS url() to the network");
  assert.doesNotMatch(html, /@import/i, "a CSS import");
}

function assertCleanPage(r: OpenedReport): void {
  assert.deepEqual(r.errors, [], "console messages or page errors");
  assert.deepEqual(r.foreignRequests, [], "requests beyond the file itself");
}

function assertChartsDrawn(r: OpenedReport, atLeast: number): void {
  assert.ok(r.facts.charts.length >= atLeast, `${r.facts.charts.length} charts, expected ≥ ${atLeast}`);
  for (const c of r.facts.charts) {
    assert.ok(c.width > 100 && c.height > 100, `${c.name}: ${c.width}×${c.height}`);
    assert.ok(c.drawnPaths > 3, `${c.name}: ${c.drawnPaths} drawn paths`);
  }
}

describe("a phase-2 training run on sparse data", () => {
  const runDir = join(work, "train", "exp");
  let html = "";
  let opened: OpenedReport;
  before(async () => {
    await writeFakeTrainingRun(runDir);
    const path = await writeRunReport(runDir);
    assert.equal(path, join(runDir, "report.html"));
    html = readFileSync(path, "utf8");
    opened = await openReport(browser, path);
  });
  after(() => opened?.page.close());

  test("is one self-contained file of reasonable size, written atomically", () => {
    assertSelfContained(html);
    assert.ok(html.length < 1.5e6, `${html.length} bytes`);
    assert.deepEqual(
      readdirSync(runDir).filter((n) => n.endsWith(".tmp")),
      [],
      "no temporary file left",
    );
  });

  test("escapes strings from the run's files", () => {
    assert.ok(!html.includes("<script>alert(1)</script>"), "the data path was not escaped");
    assert.ok(html.includes(esc("<script>alert(1)</script>.yaml")));
    assert.ok(!html.includes("<atypical>"), "a class name was not escaped");
    assert.match(opened.facts.text, /Lymphocyte <atypical> & co/);
  });

  test("has the header and a nav link per section", () => {
    const f = opened.facts;
    assert.match(f.title, /^Training · exp$/);
    assert.match(f.text, /sladet train: phase 2/);
    assert.match(f.text, /runs\/pretrain\/exp\/weights\/last\.safetensors/);
    for (const id of ["training", "metrics", "regions", "curves", "confusion", "attributes", "gallery", "files"])
      assert.ok(f.sections.includes(id), `section ${id} in ${f.sections.join(", ")}`);
    assert.deepEqual(
      f.navLinks,
      f.sections.map((s) => `#${s}`),
    );
  });

  test("draws every chart in Chromium without errors or requests", () => {
    assertCleanPage(opened);
    const names = opened.facts.charts.map((c) => c.name);
    for (const n of [
      "Box loss",
      "mAP@0.5",
      "mAP@0.5:0.95",
      "Attribute F1",
      "Phase-2 losses",
      "Pseudo-label quality",
      "Learning rate",
      "Precision–recall (labelled regions)",
      "F1–confidence (labelled regions)",
      "Precision–recall",
      "F1–confidence",
      "Confusion matrix",
      "Cell Size: true × predicted",
    ])
      assert.ok(names.includes(n), `chart ${n} in ${names.join(", ")}`);
    assertChartsDrawn(opened, 20);
  });

  test("tables: per class (all, labelled regions, 2 classes), regions, 7 attributes, Cell Size", () => {
    const t = opened.facts.tables;
    assert.equal(t["per-class"], 2 + NAMES.length);
    assert.equal(t["regions"], 7);
    assert.equal(t["attributes"], 7);
    assert.equal(t["value-confusion"], 3);
  });

  test("shows the sparse caveat and marks the meaningless numbers", () => {
    const { text } = opened.facts;
    assert.match(text, /sparse labels: whole-image P, mAP50 and mAP50-95 count detections of unlabelled cells/);
    assert.match(text, /Meaningless here \(metrics\.json meaninglessOnSparse\): precision, mAP50, mAP50-95, fitness/);
    // P, mAP50 and mAP50-95 of the "all" row and of each class; the four whole-image numbers of the regions table
    assert.equal((html.match(/<td class="num meaningless"/g) ?? []).length, 3 * (1 + NAMES.length) + 4);
  });

  test("the gallery: pictures loaded, boxes drawn, the missing one said so, layers switch off", async () => {
    const { facts, page } = opened;
    assert.equal(facts.pictures.length, 3);
    for (const w of facts.pictures) assert.ok(w > 0, "a picture did not load");
    assert.equal(facts.missingPictures, 1);
    assert.equal(facts.overlays, 4);
    assert.equal(await visibleCount(page, "#gallery .overlay .gt"), 8);
    assert.equal(await visibleCount(page, "#gallery .overlay .pred"), 12);
    assert.equal(await visibleCount(page, "#gallery .overlay .region"), 4);
    await page.click('label[for="show-gt"]');
    await page.click('label[for="show-region"]');
    assert.equal(await visibleCount(page, "#gallery .overlay .gt"), 0);
    assert.equal(await visibleCount(page, "#gallery .overlay .region"), 0);
    assert.equal(await visibleCount(page, "#gallery .overlay .pred"), 12);
  });

  test("the training section covers every epoch", () => {
    assert.match(opened.facts.text, new RegExp(`${EPOCHS}\\s*epochs`));
  });
});

describe("a detect run", () => {
  const runDir = join(work, "detect", "exp");
  let opened: OpenedReport;
  let html = "";
  before(async () => {
    await writeFakeDetectRun(runDir);
    html = readFileSync(await writeRunReport(runDir), "utf8");
    opened = await openReport(browser, join(runDir, "report.html"));
  });
  after(() => opened?.page.close());

  test("summary tables, attribute distribution, gallery with numbered detections", () => {
    assertSelfContained(html);
    assertCleanPage(opened);
    const f = opened.facts;
    assert.match(f.title, /^Detection · exp$/);
    assert.deepEqual(f.sections, ["detections", "gallery", "files"]);
    assert.equal(f.tables["detect-classes"], NAMES.length);
    assert.equal(f.tables["detect-attributes"], 7);
    assert.equal(f.tables["detect-images"], 3);
    assert.match(f.text, /not an image <unsupported>/);
    assertChartsDrawn(opened, 2);
    assert.deepEqual(
      f.pictures.map((w) => w > 0),
      [true, true],
    );
    assert.equal(f.missingPictures, 1);
    assert.match(html, /1 Neutrophil 0\.90/);
    assert.ok(!html.includes("<atypical>"), "a class name was not escaped");
    assert.match(html, /Cell Size: Small \(0\.80\)/);
  });
});

describe("old and broken run folders", () => {
  test("a run folder with only results.csv gives a valid report", async () => {
    const runDir = join(work, "old");
    await writeFakeTrainingRun(join(work, "full"));
    mkdirSync(runDir, { recursive: true });
    copyFileSync(join(work, "full", "results.csv"), join(runDir, "results.csv"));
    const html = readFileSync(await writeRunReport(runDir), "utf8");
    assertSelfContained(html);
    const r = await openReport(browser, join(runDir, "report.html"));
    try {
      assertCleanPage(r);
      assert.deepEqual(r.facts.sections, ["training", "files"]);
      assertChartsDrawn(r, 10);
    } finally {
      await r.page.close();
    }
  });

  test("malformed files are listed in the page, the rest is shown", async () => {
    const runDir = join(work, "broken");
    await writeFakeTrainingRun(runDir);
    writeFileSync(join(runDir, "metrics.json"), "{ not json");
    writeFileSync(join(runDir, "curves.json"), JSON.stringify({ version: 1, names: [], all: { x: "no" } }));
    writeFileSync(join(runDir, "confusion_matrix.csv"), 'predicted\\true,"a","background"\n"a",1\n');
    writeFileSync(join(runDir, "gallery.json"), JSON.stringify({ names: [], confThres: 0.25, images: [{ file: 3 }] }));
    const html = readFileSync(await writeRunReport(runDir), "utf8");
    const r = await openReport(browser, join(runDir, "report.html"));
    try {
      assertCleanPage(r);
      const { sections, text } = r.facts;
      assert.equal(sections[0], "problems");
      assert.match(text, /metrics\.json: /);
      assert.match(text, /curves\.json: all\.x: expected an array/);
      assert.match(text, /confusion_matrix\.csv: expected 2 rows/);
      assert.match(text, /gallery\.json: images\[0\]\.file: expected a string/);
      for (const id of ["training", "metrics", "attributes"]) assert.ok(sections.includes(id), id);
      assert.ok(!sections.includes("curves") && !sections.includes("confusion") && !sections.includes("gallery"));
      assertSelfContained(html);
    } finally {
      await r.page.close();
    }
  });

  test("an empty folder says there is nothing to show", async () => {
    const runDir = join(work, "empty");
    mkdirSync(runDir, { recursive: true });
    const html = readFileSync(await writeRunReport(runDir), "utf8");
    assert.match(html, /Nothing to show/);
  });
});

describe("readers", () => {
  test("attribute metrics recomputed from an attributes CSV equal the validation's", () => {
    assert.deepEqual(attributeSummaryFromCsv(attributeCsv()), attributeSummary());
  });

  test("the attribute table falls back to the newest attributes CSV without metrics.json", async () => {
    const runDir = join(work, "attr-only");
    mkdirSync(join(runDir, "attributes"), { recursive: true });
    writeFileSync(join(runDir, "attributes", "val_epoch2.csv"), attributeCsv());
    writeFileSync(join(runDir, "attributes", "val_epoch10.csv"), attributeCsv());
    const a = readRunArtifacts(runDir);
    assert.equal(a.attributes?.source, join("attributes", "val_epoch10.csv"));
  });

  test("CSV: quotes, escaped quotes, commas and CRLF", () => {
    assert.deepEqual(parseCsv('a,"b, c","say ""hi"""\r\n1,,3\n'), [
      ["a", "b, c", 'say "hi"'],
      ["1", "", "3"],
    ]);
  });

  test("CSV rows name the line they start on; an unclosed quote names the line it opens on", () => {
    const rows = parseCsvRows('h1,h2\r\n\n"two\nlines",x\nlast,y');
    assert.deepEqual(rows, [
      { line: 1, fields: ["h1", "h2"] },
      { line: 3, fields: ["two\nlines", "x"] },
      { line: 5, fields: ["last", "y"] },
    ]);
    assert.throws(
      () => parseCsvRows('a,b\n1,"open\n2,3\n'),
      (e: unknown) => e instanceof CsvSyntaxError && e.line === 2,
    );
  });
});
