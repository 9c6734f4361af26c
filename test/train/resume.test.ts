/**
 * Resume and save faults (issue 22): Ctrl-C mid-epoch resumes exactly (bitwise the weights, optimizer, RNG and
 * results.csv of an uninterrupted run), as a kill -9 does; a resume writes only into the run folder that holds the
 * checkpoint, whatever its metadata says; a finished run, or another --epochs, is refused with the reason; the
 * temporary file of a save killed midway is removed at the next run; a full disk while saving is a one-line error
 * naming the file, the previous checkpoint intact; missing --weights / --resume files are one-line errors.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs, {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify as stringifyYaml } from "yaml";
import { loadCheckpoint, saveCheckpoint, YoloModel } from "../../src/model/index.js";
import { getNumThreads, setNumThreads } from "../../src/torch/index.js";
import { ThresholdCalibrator } from "../../src/train/sla/calibration.js";
import { PseudoLabelStats } from "../../src/train/sla/pseudo-stats.js";
import { train } from "../../src/train/trainer.js";
import { FileWriteError } from "../../src/util/errors.js";
import { makeCellDataset, tinyModelYaml } from "../helpers/trained-fixture.js";
import { REPO_ROOT } from "../helpers.js";

const work = mkdtempSync(join(tmpdir(), "sladet-resume-"));
after(() => rmSync(work, { recursive: true, force: true }));
const SLADET = join(REPO_ROOT, "bin", "sladet");

type Loaded = ReturnType<typeof loadCheckpoint>;
function release(c: Loaded): void {
  c.model.dispose();
  c.attributeHead?.dispose();
  for (const t of c.training.values()) t.dispose();
}

/** Asserts two checkpoints hold bitwise the same model, attribute head and training state (optimizer, RNG, grads). */
function assertSameCheckpoint(aPath: string, bPath: string, withHead = true): void {
  const [a, b] = [loadCheckpoint(aPath), loadCheckpoint(bPath)];
  try {
    const same = (x: Map<string, { toArray(): number[] }>, y: Map<string, { toArray(): number[] }>, what: string) => {
      assert.deepEqual([...x.keys()], [...y.keys()], what);
      for (const [k, t] of x) assert.deepEqual(t.toArray(), y.get(k)!.toArray(), `${what} ${k}`);
    };
    same(a.model.stateDict(), b.model.stateDict(), "EMA weights");
    same(a.training, b.training, "training state");
    if (withHead) same(a.attributeHead!.stateDict(), b.attributeHead!.stateDict(), "attribute head EMA");
  } finally {
    release(a);
    release(b);
  }
}

/** A non-zero exit, and the error as one line `sladet: …` on stderr (after any progress lines), no stack trace. */
function assertOneLineError(r: ReturnType<typeof spawnSync>, pattern: RegExp): void {
  const err = String(r.stderr).trim();
  assert.notEqual(r.status, 0, err);
  const lines = err.split("\n").filter((l) => l.startsWith("sladet: "));
  assert.equal(lines.length, 1, `one error line: ${err}`);
  assert.match(lines[0]!.slice("sladet: ".length), pattern);
  assert.equal(err.split("\n").at(-1), lines[0], "the error is the last line");
  assert.doesNotMatch(err, /\n\s+at |Error:/, "no stack trace, no error class");
}

/** The tiny test model as a YAML file, for the CLI's --cfg (yolov5n would take minutes here). */
function tinyCfg(): string {
  const path = join(work, "tiny.yaml");
  if (!existsSync(path)) writeFileSync(path, stringifyYaml(tinyModelYaml(1)));
  return path;
}

describe("resume", () => {
  let data = "";
  before(async () => {
    data = await makeCellDataset(join(work, "data"), { images: 12, imgsz: 64, seed: 3 });
  });
  const base = () => ({
    data,
    cfg: tinyModelYaml(1),
    epochs: 3,
    batch: 4, // 9 training images: 3 batches an epoch
    imgsz: 64,
    workers: 0,
    nominalBatch: 8, // accumulation across the interruption: pending gradients must survive it
    minWarmupIters: 4,
    verbose: false,
    noautoanchor: true,
    attributes: true, // the head's dropout draws from the RNG every batch
  });

  test("Ctrl-C mid-epoch, then --resume: bitwise the uninterrupted run, no batch trained twice (1 thread)", async () => {
    const threads = getNumThreads();
    setNumThreads(1);
    try {
      const whole = await train({ ...base(), project: join(work, "whole") });
      // the 4th batch of this invocation is epoch 2's first: Ctrl-C there leaves 2 of its 3 batches to train
      const first = await train({ ...base(), project: join(work, "sigint"), interruptAfterBatches: 4 });
      assert.equal(first.interrupted, true);
      assert.equal(first.epochsRun, 1);
      const saved = loadCheckpoint(first.last);
      assert.equal(saved.meta.training?.["epoch"], 0, "the last completed epoch");
      assert.deepEqual(
        (saved.meta.training?.["partialEpoch"] as { batches?: number } | undefined)?.batches,
        1,
        "one batch of epoch 2",
      );
      release(saved);
      const rest = await train({ resume: first.last, verbose: false });
      assert.equal(rest.runDir, first.runDir);
      assertSameCheckpoint(whole.last, rest.last);
      const csv = (dir: string) => readFileSync(join(dir, "results.csv"), "utf8");
      assert.equal(csv(rest.runDir), csv(whole.runDir), "results.csv: the same losses and metrics every epoch");
    } finally {
      setNumThreads(threads);
    }
  });

  test("phase 2 too: Ctrl-C mid-epoch, then --resume gives the uninterrupted run (calibration and counts kept)", async () => {
    const sparse = await makeCellDataset(join(work, "sparse"), { images: 12, imgsz: 64, seed: 6, sparse: 0.4 });
    const threads = getNumThreads();
    setNumThreads(1);
    try {
      const common = { ...base(), data: sparse, attributes: false as const };
      const phase1 = await train({ ...common, epochs: 1, project: join(work, "p1") });
      const phase2 = {
        ...common,
        cfg: undefined,
        weights: phase1.last,
        // an untrained detector's confidences are about 0.001: thresholds below them give in-region samples to
        // calibrate on (what weights/last must carry across the interruption, with the epoch's counts)
        hyp: { pl_precision: 0.5, pl_conf: 0.0008, pl_conf_min: 0.0005 },
        sla: { proposer: "ema" as const, tripletSign: "conventional" as const, plInRegion: false },
      };
      const whole = await train({ ...phase2, project: join(work, "p2-whole") });
      const first = await train({ ...phase2, project: join(work, "p2-sigint"), interruptAfterBatches: 5 });
      const saved = loadCheckpoint(first.last);
      const sla = saved.meta.training?.["sla"] as { calibration: { samples: unknown[] }; stats: number[] };
      release(saved);
      assert.ok(sla.calibration.samples.length > 0, "the calibrator had samples to carry over");
      assert.ok(
        sla.stats.some((c) => c > 0),
        `the interrupted epoch's counts: ${sla.stats}`,
      );
      const rest = await train({ resume: first.last, verbose: false });
      assertSameCheckpoint(whole.last, rest.last, false);
      const csv = (dir: string) => readFileSync(join(dir, "results.csv"), "utf8");
      assert.equal(csv(rest.runDir), csv(whole.runDir), "results.csv: pseudo-label counts and thresholds too");
    } finally {
      setNumThreads(threads);
    }
  });

  test("a crafted runDir in the metadata is ignored: the run continues in the folder that holds the checkpoint", async () => {
    const first = await train({ ...base(), project: join(work, "crafted"), stopAfterEpochs: 1 });
    const elsewhere = join(work, "elsewhere");
    const bytes = readFileSync(first.last);
    const length = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8"));
    const meta = JSON.parse(header.__metadata__.sladet);
    meta.training.runDir = elsewhere;
    header.__metadata__.sladet = JSON.stringify(meta);
    const text = Buffer.from(JSON.stringify(header));
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(text.byteLength));
    writeFileSync(first.last, Buffer.concat([size, text, bytes.subarray(8 + length)]));
    const rest = await train({ resume: first.last, stopAfterEpochs: 1, verbose: false });
    assert.equal(rest.runDir, first.runDir);
    assert.equal(existsSync(elsewhere), false, "nothing written where the metadata pointed");
    assert.equal(readFileSync(join(first.runDir, "results.csv"), "utf8").trim().split("\n").length, 3);

    const loose = join(work, "loose.safetensors");
    cpSync(first.last, loose);
    await assert.rejects(
      train({ resume: loose, verbose: false }),
      /loose\.safetensors: a checkpoint to resume must be in its run folder's weights\//,
    );
  });

  test("a finished run is refused (nothing to resume), as is another --epochs on an unfinished one", async () => {
    const done = await train({ ...base(), epochs: 1, project: join(work, "finished") });
    const finished = spawnSync(SLADET, ["pretrain", "--resume", done.last, "--epochs", "20"], { encoding: "utf8" });
    assertOneLineError(
      finished,
      /training to 1 epochs is finished \(1\/1 epochs\): nothing to resume; to train further, start a new run from these weights: --weights \S+last\.safetensors/,
    );

    const part = await train({ ...base(), project: join(work, "unfinished"), stopAfterEpochs: 1 });
    const other = spawnSync(SLADET, ["pretrain", "--resume", part.last, "--epochs", "20"], { encoding: "utf8" });
    assertOneLineError(other, /^--epochs 20 with --resume: the run trains for its saved 3 epochs/);
    const same = await train({ resume: part.last, epochs: 3, stopAfterEpochs: 1, verbose: false });
    assert.equal(same.epochsRun, 1, "--epochs equal to the run's own is accepted");
  });

  test("kill -9 during training, then --resume: loads, removes the killed save's temp file, and continues", async () => {
    const project = join(work, "killed");
    const child = spawn(
      SLADET,
      ["pretrain", "--data", data, "--cfg", tinyCfg(), "--img", "64", "--batch", "4", "--epochs", "40"].concat([
        "--workers",
        "0",
        "--project",
        project,
        "--noautoanchor",
      ]),
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CI: "1" } },
    );
    let err = "";
    const last = join(project, "exp", "weights", "last.safetensors");
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (/epoch 3\/40/.test(err) && existsSync(last)) resolve();
      });
      child.once("exit", () => resolve());
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    assert.ok(existsSync(last), `weights/last written before the kill: ${err}`);
    const stale = join(project, "exp", "weights", ".last.safetensors.0123456789ab.tmp"); // as a kill mid-save leaves
    writeFileSync(stale, "half a checkpoint");
    const before = loadCheckpoint(last);
    const epoch = Number(before.meta.training?.["epoch"]);
    release(before);
    const resumed = await train({ resume: last, stopAfterEpochs: 1, verbose: false });
    assert.equal(resumed.epochsRun, 1);
    assert.equal(resumed.runDir, join(project, "exp"));
    const rows = readFileSync(join(resumed.runDir, "results.csv"), "utf8").trim().split("\n").length - 1;
    assert.equal(rows, epoch + 2, "the epochs before the kill, then one more");
    const temps = readdirSync(join(project, "exp", "weights")).filter((n) => n.endsWith(".tmp"));
    assert.deepEqual(temps, [], "the killed save's temporary file is removed");
  });
});

describe("phase 2's state in a checkpoint", () => {
  test("the calibrator and the epoch's pseudo-label counts round-trip; damaged ones are refused", () => {
    const samples = Array.from({ length: 60 }, (_, i) => ({ conf: 0.2 + i / 100, correct: i % 3 !== 0 }));
    // two of every three correct: a target of 0.6 is reachable (a calibrated threshold, not "none")
    const rule = { precision: 0.6, ceiling: 0.95, floor: 0.1 };
    const a = new ThresholdCalibrator(rule);
    const before = a.threshold;
    a.add(samples);
    assert.notEqual(a.threshold, before, "the samples moved the threshold");
    assert.ok(a.threshold < 0.95, `calibrated: ${a.threshold}`);
    const b = new ThresholdCalibrator(rule);
    b.restore(JSON.parse(JSON.stringify(a.state)));
    assert.equal(b.threshold, a.threshold);
    const more = [{ conf: 0.5, correct: false }];
    a.add(more);
    b.add(more);
    assert.equal(b.threshold, a.threshold, "the restored calibrator goes on as the original");
    assert.throws(() => b.restore({ samples: [{ conf: Number.NaN, correct: true }], threshold: 0.5 }), /damaged/);

    const stats = new PseudoLabelStats(true);
    stats.restore([4, 9, 8, 3, 2, 6, 3, 2.25]);
    assert.deepEqual(stats.toJSON(), [4, 9, 8, 3, 2, 6, 3, 2.25]);
    assert.deepEqual([stats.summary().precision, stats.summary().recall, stats.summary().iou], [3 / 4, 3 / 6, 0.75]);
    stats.restore([4, 9, 8, 3, 2, 6]); // a checkpoint from before the IoU was counted
    assert.deepEqual(stats.toJSON(), [4, 9, 8, 3, 2, 6, 0, 0]);
    assert.ok(Number.isNaN(stats.summary().iou), "no IoU known for the matches before the resume");
    assert.throws(() => stats.restore([1, 2, 3]), /damaged/);
    assert.throws(() => stats.restore([4, 9, 8, 3, 2, 6, 3, Number.NaN]), /damaged/);
  });
});

describe("save faults", () => {
  test("a full disk while saving: a FileWriteError naming the file and ENOSPC; the previous checkpoint intact", () => {
    const dir = join(work, "full", "weights");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "last.safetensors");
    const model = new YoloModel(tinyModelYaml(1));
    const realWrite = fs.writeFileSync;
    try {
      saveCheckpoint(path, model, { epoch: 1 });
      const previous = readFileSync(path);
      // the device fills up half way through the temporary file
      fs.writeFileSync = ((file: fs.PathOrFileDescriptor, bytes: NodeJS.ArrayBufferView) => {
        realWrite(file, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28 });
      }) as typeof fs.writeFileSync;
      syncBuiltinESMExports();
      assert.throws(
        () => saveCheckpoint(path, model, { epoch: 2 }),
        (err: Error) =>
          err instanceof FileWriteError &&
          err.code === "ENOSPC" &&
          err.message ===
            `${path}: cannot write (ENOSPC: no space left on the device); its previous content, if any, is intact`,
      );
      fs.writeFileSync = realWrite;
      syncBuiltinESMExports();
      assert.ok(readFileSync(path).equals(previous), "the previous checkpoint is unchanged");
      assert.deepEqual(readdirSync(dir), ["last.safetensors"], "no temporary file left");
      const loaded = loadCheckpoint(path);
      assert.equal(loaded.meta.epoch, 1);
      release(loaded);
    } finally {
      fs.writeFileSync = realWrite;
      syncBuiltinESMExports();
      model.dispose();
    }
  });

  test("the CLI prints a full disk as one line naming the file (an ENOSPC injected into a training run)", async () => {
    const data = await makeCellDataset(join(work, "full-data"), { images: 4, imgsz: 64, seed: 4 });
    const inject = join(work, "enospc.mjs");
    writeFileSync(
      inject,
      `import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const real = fs.writeFileSync;
fs.writeFileSync = (file, ...rest) => {
  if (String(file).includes(".last.safetensors.")) throw Object.assign(new Error("ENOSPC"), { code: "ENOSPC" });
  return real(file, ...rest);
};
syncBuiltinESMExports();
`,
    );
    const r = spawnSync(
      SLADET,
      ["pretrain", "--data", data, "--cfg", tinyCfg(), "--img", "64", "--epochs", "1", "--workers", "0"].concat([
        "--project",
        join(work, "full-run"),
        "--noautoanchor",
      ]),
      { encoding: "utf8", env: { ...process.env, CI: "1", NODE_OPTIONS: `--import=${inject}` } },
    );
    assertOneLineError(
      r,
      /^\S+weights\/last\.safetensors: cannot write \(ENOSPC: no space left on the device\); its previous content, if any, is intact$/,
    );
  });

  test("pretrain --weights missing.pt and --resume missing: one-line errors naming the file", async () => {
    const data = await makeCellDataset(join(work, "missing-data"), { images: 4, imgsz: 64, seed: 5 });
    const missing = join(work, "missing.pt");
    assertOneLineError(
      spawnSync(SLADET, ["pretrain", "--data", data, "--weights", missing], { encoding: "utf8" }),
      /missing\.pt: cannot read the weights \(ENOENT\)/,
    );
    assertOneLineError(
      spawnSync(SLADET, ["pretrain", "--resume", join(work, "weights", "missing.safetensors")], { encoding: "utf8" }),
      /missing\.safetensors: cannot read the checkpoint \(ENOENT\)/,
    );
  });
});
