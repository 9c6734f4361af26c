/**
 * Phase-1 training end to end: the shared fixture learns (loss falls, val mAP50 ≥ 0.3); resume after an interruption
 * gives bitwise the same weights (CPU, one thread); kill -9 during checkpoint writes leaves a loadable file; a
 * diverging run stops with a clear error; sparse data trains with the region-masked loss; `sladet val` prints the table.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { DataLoader } from "../../src/data/loader.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { getNumThreads, setNumThreads } from "../../src/torch/index.js";
import { train } from "../../src/train/trainer.js";
import { parseCsv } from "../../src/util/csv.js";
import { makeCellDataset, tinyModelYaml, trainedFixture } from "../helpers/trained-fixture.js";
import { assertClose, REPO_ROOT } from "../helpers.js";

const work = mkdtempSync(join(tmpdir(), "sladet-trainer-"));
after(() => rmSync(work, { recursive: true, force: true }));

function resultsRows(runDir: string): Array<Record<string, number>> {
  const [header, ...lines] = readFileSync(join(runDir, "results.csv"), "utf8").trim().split("\n");
  const cols = header!.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i]!, Number(v)])));
}

describe("the shared trained fixture", () => {
  let runDir = "";
  before(async () => {
    runDir = (await trainedFixture()).runDir;
  });

  test("training loss falls and val mAP50 reaches 0.3", () => {
    const rows = resultsRows(runDir);
    assert.equal(rows.length, 100);
    const first = rows[0]!["train/box_loss"]!;
    const last = rows[rows.length - 1]!["train/box_loss"]!;
    assert.ok(last < 0.7 * first, `box loss ${first} → ${last}`);
    const best = Math.max(...rows.map((r) => r["metrics/mAP_0.5"]!));
    assert.ok(best >= 0.3, `best val mAP50 ${best}`);
  });

  test("the run folder holds args.yaml, results.csv, the batch picture and loadable weights", () => {
    for (const f of [
      "args.yaml",
      "hyp.yaml",
      "results.csv",
      "train_batch0.jpg",
      "weights/last.safetensors",
      "weights/best.safetensors",
    ]) {
      assert.ok(existsSync(join(runDir, f)), f);
    }
    const best = loadCheckpoint(join(runDir, "weights", "best.safetensors"));
    assert.equal(best.meta.nc, 1);
    assert.ok((best.meta.metrics?.["mAP50"] ?? 0) >= 0.3);
    best.model.dispose();
    for (const t of best.training.values()) t.dispose();
  });

  test("sladet val on the best weights prints the YOLOv5 table and writes its files", async () => {
    const fixture = await trainedFixture();
    const r = spawnSync(
      join(REPO_ROOT, "bin", "sladet"),
      [
        "val",
        "--data",
        fixture.dataYaml,
        "--weights",
        fixture.best,
        "--img",
        "128",
        "--project",
        join(work, "val"),
        "--coco",
      ],
      { encoding: "utf8", env: { ...process.env, CI: "1" } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Class\s+Images\s+Instances\s+P\s+R\s+mAP50\s+mAP50-95/);
    assert.match(r.stdout, /^all\s+16\s+\d+/m);
    assert.match(r.stdout, /Average Precision \(AP\)\s+0\.50:0\.95\s+all/);
    for (const f of ["metrics.json", "per_class.csv", "confusion_matrix.csv"])
      assert.ok(existsSync(join(work, "val", "exp", f)), f);
  });
});

describe("resume and faults", () => {
  let data = "";
  before(async () => {
    data = await makeCellDataset(join(work, "small"), { images: 12, imgsz: 64, seed: 3 });
  });
  const base = () => ({
    data,
    cfg: tinyModelYaml(1),
    epochs: 3,
    batch: 4,
    imgsz: 64,
    workers: 0,
    nominalBatch: 8, // accumulation across epoch ends: pending gradients must survive a resume
    minWarmupIters: 4,
    verbose: false,
    noautoanchor: true,
    attributes: true, // the attribute head's weights, optimizer and EMA must resume exactly too
  });

  test("an interrupted run resumed with --resume ends with bitwise the same weights (1 thread)", async () => {
    const threads = getNumThreads();
    setNumThreads(1);
    try {
      const whole = await train({ ...base(), project: join(work, "whole") });
      const first = await train({ ...base(), project: join(work, "parts"), stopAfterEpochs: 1 });
      assert.equal(first.epochsRun, 1);
      const rest = await train({ resume: first.last, verbose: false });
      assert.equal(rest.runDir, first.runDir);
      assert.equal(rest.epochsRun, 2);
      const a = loadCheckpoint(whole.last);
      const b = loadCheckpoint(rest.last);
      const same = (x: Map<string, { toArray(): number[] }>, y: Map<string, { toArray(): number[] }>, what: string) => {
        assert.deepEqual([...x.keys()], [...y.keys()], what);
        for (const [k, t] of x) assert.deepEqual(t.toArray(), y.get(k)!.toArray(), `${what} ${k}`);
      };
      same(a.model.stateDict(), b.model.stateDict(), "EMA weights");
      same(a.training, b.training, "training state");
      assert.equal(resultsRows(rest.runDir).length, 3, "results.csv continues");
      same(a.attributeHead!.stateDict(), b.attributeHead!.stateDict(), "attribute head EMA");
      for (const c of [a, b]) {
        c.model.dispose();
        c.attributeHead?.dispose();
        for (const t of c.training.values()) t.dispose();
      }
    } finally {
      setNumThreads(threads);
    }
  });

  test("the attribute head trains with the detector: CSVs with the seed's columns, best_attr, metrics", async () => {
    const r = await train({ ...base(), epochs: 2, project: join(work, "attrs") });
    const [header] = parseCsv(readFileSync(join(r.runDir, "attributes", "val_epoch2.csv"), "utf8"));
    assert.deepEqual(header!.slice(0, 8), [
      "filename",
      "Nuclear Chromatin",
      "Nuclear Shape",
      "Nucleus",
      "Cytoplasm",
      "Cytoplasmic Basophilia",
      "Cytoplasmic Vacuoles",
      "pred_Nuclear Chromatin",
    ]);
    assert.deepEqual(header!.slice(-8), ["Cell Size", "pred_Cell Size", "class", "x1", "y1", "x2", "y2", "iou"]);
    const rows = resultsRows(r.runDir);
    assert.ok(rows.every((row) => Number.isFinite(row["train/attr_loss"]) && row["train/attr_loss"]! > 0));
    assert.ok(existsSync(join(r.runDir, "weights", "best_attr.safetensors")));
    const last = loadCheckpoint(r.last);
    assert.ok(last.attributeHead, "weights/last carries the attribute head");
    assert.ok(last.meta.metrics && "attrMeanF1" in last.meta.metrics);
    last.model.dispose();
    last.attributeHead?.dispose();
    for (const t of last.training.values()) t.dispose();
  });

  test("--weights with an attribute head continues that head (phase 2 after phase 1), with its taps", async () => {
    const first = await train({ ...base(), epochs: 1, attributeTaps: ["p2", "p3"], project: join(work, "head-a") });
    const second = await train({
      ...base(),
      cfg: undefined,
      weights: first.last,
      epochs: 1,
      hyp: { lr0: 1e-12, warmup_bias_lr: 0 }, // the head barely moves: what it starts from shows
      project: join(work, "head-b"),
    });
    const [a, b] = [loadCheckpoint(first.last), loadCheckpoint(second.last)];
    try {
      assert.deepEqual(b.attributeHead?.taps, ["p2", "p3"], "the checkpoint head's taps, not the default");
      assertClose(b.attributeHead!.conv1.weight.data, a.attributeHead!.conv1.weight.data, "conv1", { rtol: 1e-6 });
      assertClose(b.attributeHead!.fc3.weight.data, a.attributeHead!.fc3.weight.data, "fc3", { rtol: 1e-6 });
    } finally {
      for (const c of [a, b]) {
        c.model.dispose();
        c.attributeHead?.dispose();
        for (const t of c.training.values()) t.dispose();
      }
    }
  });

  test("attr_grid 0 fits a new head's RoI grid to the training cells; a continued head keeps its own", async () => {
    const dir = join(work, "big-cells");
    const yamlPath = await makeCellDataset(dir, { images: 4, imgsz: 64, seed: 11 });
    const labels = join(dir, "labels", "train");
    for (const f of readdirSync(labels).filter((n) => n.endsWith(".txt"))) {
      const lines = readFileSync(join(labels, f), "utf8").trim().split("\n");
      // cells 0.78–0.82 of the image high (mean 0.8: 51 px at 64 px, 2.1 px a row at 24×30, so 48×60)
      const side = (k: number) => String(0.8 + 0.02 * ((k % 3) - 1));
      const big = lines.map((l, k) =>
        l.split(" ").map((v, i) => (i === 3 || i === 4 ? side(k) : i === 1 || i === 2 ? "0.5" : v)),
      );
      writeFileSync(join(labels, f), `${big.map((v) => v.join(" ")).join("\n")}\n`);
    }
    const first = await train({ ...base(), data: yamlPath, epochs: 1, project: join(work, "grid-a") });
    const second = await train({
      ...base(),
      data,
      cfg: undefined,
      weights: first.last,
      epochs: 1,
      project: join(work, "grid-b"),
    });
    const [a, b] = [loadCheckpoint(first.last), loadCheckpoint(second.last)];
    try {
      assert.deepEqual(a.attributeHead?.roiSize, [48, 60], "a new head on 51 px cells (2.1 px a row at 24×30)");
      assert.deepEqual(b.attributeHead?.roiSize, [48, 60], "continued on small cells, the head keeps its grid");
    } finally {
      for (const c of [a, b]) {
        c.model.dispose();
        c.attributeHead?.dispose();
        for (const t of c.training.values()) t.dispose();
      }
    }
  });

  /** A dataset without attributes: plain 5-column YOLO labels and `attributes: []` (like a converted VOC set). */
  async function plainDataset(dir: string): Promise<string> {
    const yamlPath = await makeCellDataset(dir, { images: 4, imgsz: 64, seed: 9 });
    for (const split of ["train", "val"]) {
      const labels = join(dir, "labels", split);
      for (const f of readdirSync(labels).filter((n) => n.endsWith(".txt"))) {
        const lines = readFileSync(join(labels, f), "utf8")
          .split("\n")
          .filter((l) => l.trim());
        writeFileSync(join(labels, f), `${lines.map((l) => l.trim().split(/\s+/).slice(0, 5).join(" ")).join("\n")}\n`);
        rmSync(join(labels, f.replace(/\.txt$/, ".region")), { force: true });
      }
    }
    const doc = parseYaml(readFileSync(yamlPath, "utf8")) as Record<string, unknown>;
    doc["attributes"] = [];
    writeFileSync(yamlPath, stringifyYaml(doc));
    return yamlPath;
  }

  test("--attributes on a dataset without attributes is refused", async () => {
    const data = await plainDataset(join(work, "plain"));
    await assert.rejects(
      train({ ...base(), data, project: join(work, "plain-run") }),
      /attributes needs the 7 LLD attribute columns/,
    );
  });

  test("validation counts every instance of a dataset without attributes (targets of 6 values)", async () => {
    const data = join(work, "plain", "data.yaml");
    const r = await train({ ...base(), attributes: false, data, epochs: 1, project: join(work, "plain-ok") });
    const valLabels = join(work, "plain", "labels", "val");
    const instances = readdirSync(valLabels)
      .filter((f) => f.endsWith(".txt"))
      .reduce(
        (n, f) =>
          n +
          readFileSync(join(valLabels, f), "utf8")
            .split("\n")
            .filter((l) => l.trim()).length,
        0,
      );
    assert.ok(instances > 0);
    assert.equal(r.final?.all.instances, instances);
    assert.ok(
      r.final!.all.perClass.every((c) => c.name === "cell"),
      "no garbage class names from misread rows",
    );
  });

  test("kill -9 during checkpoint writes always leaves a loadable file", async () => {
    const path = join(work, "killed.safetensors");
    const script = `
      const { YoloModel } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, "dist/src/model/yolo.js")).href)});
      const { saveCheckpoint } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, "dist/src/model/checkpoint.js")).href)});
      const { builtinModelYaml } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, "dist/src/model/config.js")).href)});
      const m = new YoloModel({ ...builtinModelYaml("n"), nc: 1 });
      process.stdout.write("ready\\n");
      for (let i = 0; ; i++) saveCheckpoint(${JSON.stringify(path)}, m, { epoch: i });`;
    for (let round = 0; round < 3; round++) {
      const child = spawn(join(REPO_ROOT, "bin", "sladet-node"), ["--input-type=module", "-e", script], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((r) => setTimeout(r, 300 + 200 * round));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const loaded = loadCheckpoint(path);
      assert.equal(loaded.meta.nc, 1);
      loaded.model.dispose();
    }
  });

  test("SIGINT during an epoch saves weights/last, and --resume continues the run", async () => {
    const project = join(work, "sigint");
    const child = spawn(
      join(REPO_ROOT, "bin", "sladet"),
      [
        "pretrain",
        "--data",
        data,
        "--cfg",
        "yolov5n",
        "--img",
        "64",
        "--batch",
        "4",
        "--epochs",
        "40",
        "--workers",
        "0",
        "--project",
        project,
        "--noautoanchor",
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "1" } },
    );
    let err = "";
    let sent = false;
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (!sent && /epoch 2\/40/.test(err)) {
        sent = true; // one Ctrl-C: save and stop (a second one would force the exit)
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    assert.equal(code, 130, `exit status 130 (interrupted), so chained commands stop: ${err}`);
    assert.match(err, /interrupted: saving weights\/last/);
    assert.match(err, /continue with {2}sladet pretrain --resume \S+last\.safetensors/);
    const last = join(project, "exp", "weights", "last.safetensors");
    const saved = loadCheckpoint(last);
    assert.equal(saved.meta.training?.["epoch"], 0, "the last completed epoch");
    saved.model.dispose();
    for (const t of saved.training.values()) t.dispose();
    const resumed = await train({ resume: last, stopAfterEpochs: 1, verbose: false });
    assert.equal(resumed.runDir, join(project, "exp"));
    assert.equal(
      resultsRows(resumed.runDir).length,
      2,
      "the interrupted epoch 2 is finished from its next batch, then the run goes on",
    );
  });

  test("--resume needs no --data (the run's options are in the checkpoint); neither is a clear error", () => {
    const none = spawnSync(join(REPO_ROOT, "bin", "sladet"), ["pretrain"], { encoding: "utf8" });
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /--data is missing: give a dataset YAML, or resume a run/);
    const missing = spawnSync(
      join(REPO_ROOT, "bin", "sladet"),
      ["pretrain", "--resume", join(work, "none.safetensors")],
      {
        encoding: "utf8",
      },
    );
    assert.notEqual(missing.status, 0);
    assert.doesNotMatch(missing.stderr, /--data/);
    assert.match(missing.stderr, /none\.safetensors/);
  });

  test("a diverging run stops with a clear error after repeated non-finite losses", async () => {
    await assert.rejects(
      train({
        ...base(),
        epochs: 50,
        project: join(work, "diverge"),
        hyp: { lr0: 1e12, warmup_epochs: 0, momentum: 0.9 },
        nominalBatch: 4,
      }),
      /consecutive non-finite losses or gradients: training diverged/,
    );
  });

  test("close_mosaic: the last N epochs ask the loader for batches without mosaic, and the log says so", async () => {
    const asked: Array<[DataLoader, number, boolean]> = [];
    const original = DataLoader.prototype.epoch;
    const write = process.stdout.write;
    const printed: string[] = [];
    DataLoader.prototype.epoch = function (this: DataLoader, epoch, start, options) {
      asked.push([this, epoch, options?.closeMosaic ?? false]);
      return original.call(this, epoch, start, options);
    };
    process.stdout.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await train({
        ...base(),
        attributes: false,
        epochs: 3,
        verbose: true,
        project: join(work, "close-mosaic"),
        hyp: { mosaic: 1, close_mosaic: 2 },
      });
    } finally {
      DataLoader.prototype.epoch = original;
      process.stdout.write = write;
    }
    const trainLoader = asked[0]![0]; // the first loader asked for an epoch trains; validation's come after it
    assert.deepEqual(
      asked.filter(([loader]) => loader === trainLoader).map(([, epoch, closed]) => [epoch, closed]),
      [
        [0, false],
        [1, true],
        [2, true],
      ],
    );
    assert.ok(
      asked.some(([loader]) => loader !== trainLoader),
      "validation loaders were seen too",
    );
    assert.ok(
      asked.every(([loader, , closed]) => loader === trainLoader || !closed),
      "validation never closes mosaic",
    );
    assert.ok(printed.some((l) => l.includes("closing mosaic: epochs 2-3 train on whole images (close_mosaic 2)")));
  });

  test("sparse labels train with the region-masked loss and report region-only metrics", async () => {
    const sparse = await makeCellDataset(join(work, "sparse"), { images: 8, imgsz: 64, seed: 5, sparse: 0.3 });
    const r = await train({ ...base(), data: sparse, epochs: 1, project: join(work, "sparse-run") });
    assert.ok(r.final?.region, "labelled-region metrics are reported for sparse data");
    assert.equal(r.epochsRun, 1);
  });
});
