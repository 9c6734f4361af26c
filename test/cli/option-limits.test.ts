/**
 * Issue 22, flags: out-of-range values fail at once with one line naming the flag (exit 1, no stack trace), before
 * any weights or data are read: `detect --imgsz 32768` used to end in "Array buffer allocation failed" after minutes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { runDetect } from "../../src/runs/detect-run.js";
import { runValidation } from "../../src/runs/val-run.js";
import { OptionError } from "../../src/util/errors.js";
import { REPO_ROOT } from "../helpers.js";

const sladet = (...args: string[]) =>
  spawnSync(join(REPO_ROOT, "bin", "sladet"), args, {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
    timeout: 60_000,
  });

test("CLI: imgsz past 8192, zero or negative counts, thresholds outside [0, 1]: one line naming the flag, exit 1", () => {
  const cases: Array<[string[], RegExp]> = [
    [["detect", "--source", "x.png", "--imgsz", "32768"], /--imgsz expects an integer in \[1, 8192\], got "32768"/],
    [["pretrain", "--data", "d.yaml", "--imgsz", "100000"], /--imgsz expects an integer in \[32, 8192\], got "100000"/],
    [["val", "--data", "d.yaml", "--weights", "w.pt", "--imgsz", "9000"], /--imgsz expects an integer in \[32, 8192\]/],
    [["pretrain", "--data", "d.yaml", "--batch-size", "0"], /--batch expects an integer >= 1, got "0"/],
    [["pretrain", "--data", "d.yaml", "--epochs", "-5"], /--epochs expects an integer >= 1, got "-5"/],
    [["detect", "--source", "x.png", "--conf-thres", "1.5"], /--conf-thres expects a number in \[0, 1\], got "1.5"/],
    [["detect", "--source", "x.png", "--iou-thres", "-0.1"], /--iou-thres expects a number in \[0, 1\], got "-0.1"/],
    [["val", "--data", "d.yaml", "--weights", "w.pt", "--max-det", "0"], /--max-det expects an integer >= 1/],
    [["sparsify", "--data", "d.yaml", "--out", "o", "--seed", "-1"], /--seed expects an integer >= 0, got "-1"/],
  ];
  for (const [args, message] of cases) {
    const start = performance.now();
    const r = sladet(...args);
    assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.ok(performance.now() - start < 30_000, `${args.join(" ")} answered at once`);
  }
});

test("library: runDetect and runValidation refuse the same values before reading weights or data", async () => {
  const missing = "/nonexistent/weights.safetensors";
  await assert.rejects(
    runDetect({ source: "/nonexistent", weights: missing, imgsz: 32768, verbose: false }),
    (e: unknown) => e instanceof OptionError && e.option === "imgsz",
  );
  await assert.rejects(
    runDetect({ source: "/nonexistent", weights: missing, batchSize: 0, verbose: false }),
    (e: unknown) => e instanceof OptionError && e.option === "batchSize",
  );
  for (const [field, value] of [
    ["imgsz", 32768],
    ["batch", 0],
    ["confThres", 2],
    ["iouThres", Number.NaN],
    ["maxDet", -1],
  ] as const) {
    await assert.rejects(
      runValidation({ data: "/nonexistent.yaml", weights: missing, verbose: false, [field]: value }),
      (e: unknown) => e instanceof OptionError && e.option === field,
      field,
    );
  }
});
