/**
 * Evaluation parity with Ultralytics YOLOv5 v7.0's val.py (issue 23), against test/fixtures/evalparity/ written by
 * tools/oracle/yolov5_val.py from val.py's own code path: a tiny YOLOv5 `.pt`, 8 images that need no resize (rect
 * batches with odd padding, cells cut by the border) and val.py's detections, native-frame boxes and metrics.
 * (a) val.py's detections through sladet's frame mapping and metrics; (b) `validate` on the `.pt` end to end.
 * Every P, R, mAP50 and mAP50-95 (all and per class) within ±0.001.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadDataYaml } from "../../src/data/dataset-yaml.js";
import { DataLoader, loadSplitItems } from "../../src/data/loader.js";
import { DetectionMetrics, type DetectionSummary } from "../../src/eval/detection-metrics.js";
import { detectionsToNative, labelsToNative, nativeFrame } from "../../src/eval/native-frame.js";
import { validate } from "../../src/eval/validate.js";
import { loadYoloCheckpoint } from "../../src/io/yolo-import.js";
import { fixturePath, loadGolden } from "../helpers.js";

const golden = loadGolden("evalparity/val.safetensors", "yolov5_val.py");
const meta = golden.metadata;
const names = JSON.parse(meta["names"]!) as string[];
const images = JSON.parse(meta["images"]!) as Array<{
  file: string;
  width: number;
  height: number;
  input: [number, number];
  gain: number;
  pad: [number, number];
}>;
const imgSize = Number(meta["imgsz"]);
const TOLERANCE = 0.001;

const rows = (key: string) => Float64Array.from(golden.ref(key).toTypedArray<"float32">());

/** val.py's table [1 + nc, 4]: P, R, mAP50, mAP50-95 of all, then of each class. */
function oracleTable(key: string): number[][] {
  const flat = Array.from(golden.ref(key).toTypedArray<"float64">());
  return Array.from({ length: flat.length / 4 }, (_, i) => flat.slice(i * 4, i * 4 + 4));
}

function sladetTable(s: DetectionSummary): number[][] {
  return [[s.mp, s.mr, s.map50, s.map], ...s.perClass.map((c) => [c.p, c.r, c.ap50, c.ap])];
}

function assertTablesClose(actual: number[][], expected: number[][], what: string): void {
  const columns = ["P", "R", "mAP50", "mAP50-95"];
  assert.equal(actual.length, expected.length, `${what}: rows`);
  expected.forEach((row, i) => {
    row.forEach((want, j) => {
      const got = actual[i]![j]!;
      const label = i === 0 ? "all" : names[i - 1];
      assert.ok(
        Math.abs(got - want) <= TOLERANCE,
        `${what}: ${label} ${columns[j]} ${got.toFixed(4)}, val.py ${want.toFixed(4)}`,
      );
    });
  });
}

/** sladet's metrics on val.py's per-image detections `detKey` and native labels. */
function metricsOf(detKey: string): DetectionSummary {
  const metrics = new DetectionMetrics(names);
  images.forEach((_, i) => {
    metrics.add(rows(`${detKey}/${i}`), rows(`labels/${i}`));
  });
  return metrics.summary();
}

test("the fixture exercises clipping: val.py's mAP50-95 with and without clip_boxes differ", () => {
  const clipped = oracleTable("metrics");
  const unclipped = oracleTable("metrics_unclipped");
  assert.ok(clipped[0]![3]! - unclipped[0]![3]! > 0.01, `mAP50-95 ${clipped[0]![3]} vs ${unclipped[0]![3]}`);
  assert.ok(
    images.some((im) => im.pad.some((p) => !Number.isInteger(p))),
    "an image with odd letterbox padding",
  );
});

test("nativeFrame + detectionsToNative map val.py's input-frame detections to its scale_boxes output (clipped)", () => {
  images.forEach((im, i) => {
    const frame = nativeFrame(im, imgSize, im.input);
    assert.equal(frame.gain, im.gain, `${im.file} gain`);
    assert.deepEqual([frame.padX, frame.padY], im.pad, `${im.file} ratio_pad padding`);
    const got = detectionsToNative(rows(`input/${i}`), frame);
    const want = rows(`native/${i}`);
    assert.equal(got.length, want.length);
    for (let k = 0; k < want.length; k++) {
      assert.ok(Math.abs(got[k]! - want[k]!) <= 1e-3, `${im.file} value ${k}: ${got[k]} vs ${want[k]}`);
    }
  });
});

test("labelsToNative: back by the whole-pixel border the loader shifted labels by, clipped", () => {
  const frame = { width: 100, height: 50, gain: 0.5, padX: 10.5, padY: 4, borderX: 10, borderY: 4 };
  assert.deepEqual(Array.from(labelsToNative([2, 5, 4, 30.5, 40], frame)), [2, 0, 0, 41, 50]);
  assert.deepEqual(Array.from(detectionsToNative([12, 5, 30.5, 40, 0.9, 1], frame)), [3, 2, 40, 50, 0.9, 1]);
});

test("DetectionMetrics on val.py's detections = val.py's P, R, mAP50, mAP50-95 (±0.001)", () => {
  assertTablesClose(sladetTable(metricsOf("native")), oracleTable("metrics"), "clipped");
  assertTablesClose(sladetTable(metricsOf("unclipped")), oracleTable("metrics_unclipped"), "clipping off");
});

test("validate() on the YOLOv5 .pt end to end = val.py (±0.001)", async () => {
  const data = loadDataYaml(fixturePath("evalparity/data.yaml"));
  const items = await loadSplitItems(data, "val");
  const { model } = loadYoloCheckpoint(fixturePath("evalparity/tiny3.pt"));
  const loader = new DataLoader({ items, imgSize, batchSize: Number(meta["batch"]), rect: true, workers: 0 });
  try {
    const result = await validate(model, loader, { names, label: null });
    assert.deepEqual(result.thresholds, {
      conf: Number(meta["conf"]),
      iou: Number(meta["iou"]),
      maxDet: Number(meta["maxDet"]),
    });
    assert.equal(result.all.images, images.length);
    assertTablesClose(sladetTable(result.all), oracleTable("metrics"), "sladet validate");
  } finally {
    await loader.dispose();
    model.dispose();
  }
});
