/**
 * Detect parity with Ultralytics YOLOv5 v7.0's detect.py (issue 23 item 2), against test/fixtures/detectparity/
 * written by tools/oracle/yolov5_detect.py from detect.py's own code path: the evaluation fixture's tiny YOLOv5 `.pt`
 * on images that detect.py's letterbox enlarges, shrinks or keeps (PNG and JPEG, odd sizes). Through the public API,
 * every detection's box (original pixels, before detect.py rounds them to integers) and confidence within 1e-3, and
 * the same classes and counts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type Detector, load } from "../../src/api/detector.js";
import type { PredictedCell, PredictionsJson } from "../../src/infer/prediction-json.js";
import { fixturePath, loadGolden } from "../helpers.js";

const golden = loadGolden("detectparity/detect.safetensors", "yolov5_detect.py");
const meta = golden.metadata;
const images = JSON.parse(meta["images"]!) as Array<{ file: string; width: number; height: number }>;
const TOLERANCE = 1e-3;

/** detect.py's detections of image i: rows of x1, y1, x2, y2, confidence, class, by confidence descending. */
function oracleRows(i: number): number[][] {
  const flat = Array.from(golden.ref(`boxes/${i}`).toTypedArray<"float32">());
  return Array.from({ length: flat.length / 6 }, (_, k) => flat.slice(k * 6, k * 6 + 6));
}

test("the fixture needs resizing both ways: images larger and smaller than the network size", () => {
  const imgsz = Number(meta["imgsz"]);
  const longSides = images.map((im) => Math.max(im.width, im.height));
  assert.ok(longSides.some((s) => s > imgsz) && longSides.some((s) => s < imgsz), `long sides ${longSides}`);
  assert.ok(
    images.every((_, i) => oracleRows(i).length > 0),
    "every image has detections",
  );
});

/** Asserts that `cells` of images[i] are detect.py's within TOLERANCE; returns the largest difference. */
function assertLikeDetectPy(i: number, cells: readonly PredictedCell[]): number {
  const file = images[i]!.file;
  const want = oracleRows(i);
  assert.equal(cells.length, want.length, `${file}: detections`);
  let worst = 0;
  cells.forEach((cell, k) => {
    const row = want[k]!;
    assert.equal(cell.class, row[5], `${file} #${k}: class`);
    const diffs = [...cell.box.map((v, j) => Math.abs(v - row[j]!)), Math.abs(cell.confidence - row[4]!)];
    worst = Math.max(worst, ...diffs);
    assert.ok(
      diffs.every((d) => d <= TOLERANCE),
      `${file} #${k}: sladet ${[...cell.box, cell.confidence].join(", ")}, detect.py ${row.slice(0, 5).join(", ")}`,
    );
  });
  return worst;
}

const detectOptions = () => ({
  imgsz: Number(meta["imgsz"]),
  confThres: Number(meta["conf"]),
  iouThres: Number(meta["iou"]),
  maxDet: Number(meta["maxDet"]),
});

async function withDetector(use: (detector: Detector) => Promise<void>): Promise<void> {
  const detector = await load(fixturePath("evalparity/tiny3.pt"), { backend: "libtorch" });
  try {
    await use(detector);
  } finally {
    await detector.dispose();
  }
}

test("load(.pt).detect gives detect.py's boxes, confidences and classes on images of any size", async () => {
  await withDetector(async (detector) => {
    const paths = images.map((im) => fixturePath(`detectparity/images/${im.file}`));
    const results = await detector.detect(paths, detectOptions());
    let worst = 0;
    results.forEach((result, i) => {
      assert.deepEqual([result.width, result.height], [images[i]!.width, images[i]!.height], `${images[i]!.file}`);
      worst = Math.max(worst, assertLikeDetectPy(i, result.cells));
    });
    console.log(`detect parity (API): largest difference ${worst.toExponential(2)} (box pixels or confidence)`);
  });
});

test("sladet detect's predictions.json holds detect.py's detections to 1e-3", async () => {
  const project = mkdtempSync(join(tmpdir(), "sladet-detectparity-"));
  try {
    await withDetector(async (detector) => {
      const result = await detector.detectToFolder(fixturePath("detectparity/images"), {
        ...detectOptions(),
        nosave: true,
        project,
        name: "exp",
        verbose: false,
      });
      const written = JSON.parse(readFileSync(result.predictionsJson, "utf8")) as PredictionsJson;
      const byFile = new Map(written.images.map((im) => [im.file.split("/").pop()!, im.detections]));
      const worst = Math.max(...images.map((im, i) => assertLikeDetectPy(i, byFile.get(im.file) ?? [])));
      console.log(`detect parity (predictions.json): largest difference ${worst.toExponential(2)}`);
    });
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
