/**
 * The README's main job (src/demo/main-job.ts) end to end on a reduced budget (fewer, smaller images; 2 + 1 epochs):
 * every stage runs through the same code as `npm run demo` and leaves its run folder and report.html; detect writes
 * its outputs for the test images. The full-size run (5 minutes) is the demo itself.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatMainJobSummary, runMainJob } from "../../src/demo/main-job.js";
import type { PredictionsJson } from "../../src/infer/prediction-json.js";

test("the main job: data → phase 1 → phase 2 → test → detect, each with its report", async (t) => {
  const out = mkdtempSync(join(tmpdir(), "sladet-main-job-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const r = await runMainJob({ out, images: 40, imgsz: 128, pretrainEpochs: 2, trainEpochs: 1, verbose: false });
  for (const [stage, report] of Object.entries(r.reports)) {
    assert.ok(report && existsSync(report), `${stage}: report.html written`);
    assert.match(readFileSync(report, "utf8"), /<html/i, `${stage}: an HTML page`);
  }
  assert.ok(existsSync(r.train.best), "phase 2 saved weights/best");
  assert.ok(existsSync(join(r.testDir, "metrics.json")), "test wrote metrics.json");
  const predictions = JSON.parse(readFileSync(join(r.detectDir, "predictions.json"), "utf8")) as PredictionsJson;
  const testImages = readdirSync(join(out, "data", "images", "test"));
  assert.equal(predictions.images.length, testImages.length, "detect ran on every test image");
  assert.ok(predictions.model.attributes, "the detector carries the attribute head");
  assert.ok(existsSync(join(r.detectDir, "predictions.csv")));
  const summary = formatMainJobSummary(r);
  for (const dir of [r.pretrain.runDir, r.train.runDir, r.testDir, r.detectDir]) assert.ok(summary.includes(dir));
});
