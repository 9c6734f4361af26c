/** `sladet detect` through bin/sladet: --help without the engine, YOLOv5 flags refused by name, one run end to end. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import type { PredictionsJson } from "../../src/infer/prediction-json.js";
import { type TrainedFixture, trainedFixture } from "../helpers/trained-fixture.js";
import { REPO_ROOT } from "../helpers.js";

let work: string;
let fixture: TrainedFixture;

const sladet = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(join(REPO_ROOT, "bin", "sladet"), args, {
    encoding: "utf8",
    cwd: work,
    env: { ...process.env, CI: "1", ...env },
  });

before(async () => {
  work = mkdtempSync(join(tmpdir(), "sladet-detect-cli-"));
  fixture = await trainedFixture();
});
after(() => rmSync(work, { recursive: true, force: true }));

test("detect --help tells what a run writes, without the native addon", () => {
  const r = spawnSync(join(REPO_ROOT, "bin", "sladet"), ["detect", "--help"], {
    encoding: "utf8",
    env: { ...process.env, SLADET_ADDON: "/nonexistent/sladet.node" },
  });
  assert.equal(r.status, 0, r.stderr);
  for (const s of [
    "--source",
    "--weights",
    "--save-txt",
    "--backend",
    "predictions.csv",
    "predictions.json",
    "M·CII·ASA",
  ])
    assert.ok(r.stdout.includes(s), s);
});

test("detect's model errors name the flag, before any native code loads", () => {
  const onnx = join(work, "model.onnx");
  writeFileSync(onnx, "");
  const noAddon = { SLADET_ADDON: "/nonexistent/sladet.node" };
  const cases: Array<[string[], RegExp]> = [
    [["--weights", onnx, "--backend", "libtorch"], /--backend "libtorch" cannot open .*model\.onnx, an ONNX model/],
    [["--weights", join(work, "missing.safetensors")], /--weights .*missing\.safetensors: no such file or run folder/],
    [["--weights", work, "--backend", "onnx"], /--weights .* has no weights\/best\.onnx: write it with exportOnnx/],
  ];
  for (const [flags, message] of cases) {
    const r = sladet(["detect", "--source", "x.jpg", ...flags], noAddon);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
});

test("YOLOv5 detect flags sladet does not take are refused by name", () => {
  const r = sladet(["detect", "--source", "x.jpg", "--view-img"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--view-img \(a YOLOv5 flag\) is not supported/);
});

test("bin/sladet detect end to end: a run folder as weights, a .txt list, batches, labels, the summary", () => {
  // a copy of the shared fixture's run: its ONNX cache is this test's own (other files run detect on the fixture)
  const runDir = join(work, "tiny-run");
  cpSync(fixture.runDir, runDir, { recursive: true, filter: (src) => !src.endsWith(".onnx-cache") });
  const best = join(runDir, "weights", "best.safetensors");
  const images = join(dirname(fixture.dataYaml), "images", "val");
  const files = readdirSync(images).sort().slice(0, 3);
  writeFileSync(join(work, "list.txt"), files.map((f) => join(images, f)).join("\n"));
  const r = sladet([
    "detect",
    "--weights",
    runDir,
    "--source",
    "list.txt",
    "--img",
    "128",
    "--batch-size",
    "2",
    "--conf-thres",
    "0.05",
    "--save-txt",
    "--project",
    "out",
  ]);
  assert.equal(r.status, 0, r.stderr);
  // the default backend on the CPU: onnx, on an export made now and cached next to the weights
  const cache = join(runDir, "weights", "best.safetensors.onnx-cache", "model.onnx");
  assert.ok(
    r.stdout.includes(`detect: ${cache} (onnx: the faster one on the CPU; ONNX export made now, once;`),
    r.stdout,
  );
  assert.match(r.stdout, /detect: 3 images, \d+ cells? in/);
  assert.match(r.stdout, /forward\+NMS/);
  assert.match(
    r.stdout,
    /results in out\/exp: annotated images, predictions.csv, predictions.json, legend.txt, labels\//,
  );
  const run = join(work, "out", "exp");
  for (const f of ["predictions.csv", "predictions.json", "legend.txt"]) assert.ok(existsSync(join(run, f)), f);
  const json = JSON.parse(readFileSync(join(run, "predictions.json"), "utf8")) as PredictionsJson;
  assert.equal(json.images.length, 3);
  assert.equal(json.model.weights, join(runDir, "weights", "best.safetensors"));
  assert.equal(json.model.backend, "onnx");
  assert.equal(json.model.attributes, null); // the fixture has no attribute head
  for (const image of json.images) {
    assert.ok(existsSync(join(run, image.annotated!)), image.annotated);
    assert.ok(existsSync(join(run, "labels", image.annotated!.replace(/\.jpg$/, ".txt"))));
  }
  // a second run gets a new folder
  const detectFirstImage = (...extra: string[]) =>
    sladet([
      "detect",
      "--weights",
      best,
      ...extra,
      "--source",
      join(images, files[0]!),
      "--img",
      "128",
      "--project",
      "out",
      "--nosave",
    ]);
  const again = detectFirstImage();
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /\(onnx: the faster one on the CPU; ONNX export reused;/);
  assert.ok(existsSync(join(work, "out", "exp2", "predictions.json")));
  assert.deepEqual(
    readdirSync(join(work, "out", "exp2")).filter((f) => f.endsWith(".jpg")),
    [],
  );
  // --backend still forces libtorch, and the same cells come out
  const forced = detectFirstImage("--backend", "libtorch");
  assert.equal(forced.status, 0, forced.stderr);
  assert.ok(forced.stdout.includes(`detect: ${best} (libtorch: --backend) on`), forced.stdout);
  const cellsOf = (dir: string) =>
    (JSON.parse(readFileSync(join(work, "out", dir, "predictions.json"), "utf8")) as PredictionsJson).images[0]!
      .detections.length;
  assert.equal(cellsOf("exp3"), cellsOf("exp2"));
});
