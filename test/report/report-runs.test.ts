/**
 * The report wired into the commands: `sladet val` on the shared trained fixture and a one-epoch `runTraining()` each end
 * with report.html in their run folder and a `report: <path>` line; the validation's curves.json and gallery.json
 * (predictions mapped back to the original images) are in place and drawn.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { GalleryJson } from "../../src/eval/gallery.js";
import { runTraining } from "../../src/runs/train-run.js";
import { makeCellDataset, tinyModelYaml, trainedFixture } from "../helpers/trained-fixture.js";
import { REPO_ROOT } from "../helpers.js";
import { launchBrowser, openReport } from "./browser.js";

const work = mkdtempSync(join(tmpdir(), "sladet-report-runs-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("report.html at the end of the commands", () => {
  test("sladet val writes report.html with curves, confusion and the gallery, and prints its path", async () => {
    const fixture = await trainedFixture();
    const r = spawnSync(
      join(REPO_ROOT, "bin", "sladet"),
      ["val", "--data", fixture.dataYaml, "--weights", fixture.best, "--img", "128", "--project", join(work, "val")],
      { encoding: "utf8", env: { ...process.env, CI: "1" } },
    );
    assert.equal(r.status, 0, r.stderr);
    const runDir = join(work, "val", "exp");
    const report = join(runDir, "report.html");
    assert.match(r.stdout, new RegExp(`\\nreport: ${report.replaceAll(".", "\\.")}\\n$`));
    for (const f of ["curves.json", "gallery.json", "report.html"]) assert.ok(existsSync(join(runDir, f)), f);

    const gallery = JSON.parse(readFileSync(join(runDir, "gallery.json"), "utf8")) as GalleryJson;
    assert.equal(gallery.images.length, 16);
    // the predictions land on the ground truth in original-image pixels: most confident ones overlap a label
    const iou = (a: number[], b: number[]) => {
      const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
      const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
      return (w * h) / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - w * h);
    };
    const confident = gallery.images.flatMap((im) =>
      im.predictions
        .filter((p) => p.confidence > 0.5)
        .map((p) => Math.max(0, ...im.labels.map((l) => iou(p.box, l.box)))),
    );
    assert.ok(confident.length > 0, "no confident prediction in the gallery");
    assert.ok(
      confident.filter((v) => v > 0.5).length >= 0.7 * confident.length,
      `IoU with the labels: ${confident.map((v) => v.toFixed(2)).join(" ")}`,
    );

    const browser = await launchBrowser();
    try {
      const { facts, errors } = await openReport(browser, report);
      assert.deepEqual(errors, []);
      for (const id of ["metrics", "curves", "confusion", "gallery"]) assert.ok(facts.sections.includes(id), id);
      assert.equal(facts.pictures.length, 16);
      assert.ok(facts.pictures.every((w) => w > 0));
      assert.ok(facts.charts.length >= 5);
    } finally {
      await browser.close();
    }
  });

  test("training ends with its final validation's files and report.html", async () => {
    const data = await makeCellDataset(join(work, "data"), { images: 8, imgsz: 64, seed: 2 });
    const logged: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let result: Awaited<ReturnType<typeof runTraining>>;
    try {
      result = await runTraining({
        data,
        cfg: tinyModelYaml(1),
        epochs: 1,
        batch: 4,
        imgsz: 64,
        workers: 0,
        noautoanchor: true,
        project: join(work, "train"),
        name: "exp",
      });
    } finally {
      process.stdout.write = write;
    }
    assert.equal(result.report, join(result.runDir, "report.html"));
    assert.ok(logged.join("").includes(`report: ${result.report}\n`), "the report line");
    for (const f of ["metrics.json", "per_class.csv", "confusion_matrix.csv", "curves.json", "gallery.json"])
      assert.ok(existsSync(join(result.runDir, f)), f);
    const html = readFileSync(result.report!, "utf8");
    assert.match(html, /<section id="training">/);
    assert.match(html, /<section id="metrics">/);
    assert.match(html, /<section id="gallery">/);
    assert.match(html, /data:image\/jpeg;base64,/);
  });
});
