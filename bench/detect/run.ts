/**
 * End-to-end benchmark of `sladet detect` (issue 13): images/s on a folder of 640×640 fields of view, per stage
 * (decode, letterbox, forward, NMS, attributes, drawing, writing), for sladet on libtorch and on onnxruntime against
 * the same pipeline in PyTorch with its weights loaded once (bench/detect/torch_detect.py). Inputs are made once and
 * cached in a temp folder keyed by the options (bench/detect/setup.ts: synthetic images, a seeded YOLOv5 for the 14
 * LLD classes with an attribute head, its ONNX export, a confidence threshold that sends ~300 boxes per image into
 * NMS; --max-det 30, so every engine draws and describes 30 cells per image). The three children run one after the
 * other, never concurrently, rotating the order each repetition; all inherit SLADET_THREADS (PyTorch:
 * torch.set_num_threads) and jemalloc from bin/sladet-node.
 *
 * With --prefetch, sladet runs as `sladet detect` does by default (the next image decodes while the current one is
 * drawn and written; the decode stage is then only the wait for it); without, decoding is measured in sequence.
 *
 *   bin/sladet-node dist/bench/detect/run.js [--models n] [--images 32] [--reps 5] [--imgsz 640] [--source DIR]
 *     [--prefetch]
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PACKAGE_ROOT } from "../../src/util/package-root.js";
import { benchHeader, compareEngineSet, type EngineChild, median } from "../common/compare.js";
import { PREFETCH_ENV } from "./prefetch-env.js";

const STAGES = ["decode", "letterbox", "forward", "nms", "attributes", "drawing", "writing", "other"] as const;

const ENGINES: readonly EngineChild[] = [
  { name: "sladet-onnx", engine: "sladet", script: "dist/bench/detect/sladet-detect.js", args: ["onnx"] },
  { name: "sladet-libtorch", engine: "sladet", script: "dist/bench/detect/sladet-detect.js", args: ["libtorch"] },
  { name: "PyTorch", engine: "pytorch", script: "bench/detect/torch_detect.py" },
];

/** What bench/detect's children add to the common result line. */
interface DetectRun {
  stages: Record<string, number>;
  images: number;
  cells: number;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");

function setup(dir: string, models: string, images: string, imgsz: string, source: string | undefined): string {
  const settings = join(dir, "settings.json");
  if (existsSync(settings)) {
    console.log(`inputs: ${dir} (cached)`);
    return settings;
  }
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const r = spawnSync(
    join(PACKAGE_ROOT, "bin", "sladet-node"),
    [join(PACKAGE_ROOT, "dist/bench/detect/setup.js"), dir, models, images, imgsz, ...(source ? [source] : [])],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (r.status !== 0) throw new Error(`setup failed (${r.status ?? r.signal}):\n${r.stdout}`);
  console.log(`${r.stdout.trim().split("\n").pop()} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  return settings;
}

function fmt(v: number, digits = 1): string {
  return v.toFixed(digits);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      models: { type: "string", default: "n" },
      images: { type: "string", default: "32" },
      reps: { type: "string", default: "5" },
      imgsz: { type: "string", default: "640" },
      source: { type: "string" },
      prefetch: { type: "boolean", default: false },
    },
  });
  const models = values.models!;
  // read by sladet-detect.ts (the children inherit the environment)
  process.env[PREFETCH_ENV] = values.prefetch ? "1" : "0";
  const source = values.source ? resolve(values.source) : undefined;
  const key = createHash("sha256")
    .update(JSON.stringify([models, values.images, values.imgsz, source ?? null, 2]))
    .digest("hex")
    .slice(0, 12);
  const dir = join(tmpdir(), `sladet-bench-detect-${key}`);
  benchHeader(
    `sladet detect end to end, ${values.images} images${source ? ` of ${source}` : " (synthetic 640²)"}, ` +
      `imgsz ${values.imgsz}, batch 1, prefetch ${values.prefetch ? "on (sladet)" : "off"}, max-det 30; ${values.reps} runs per engine`,
  );
  console.log(`load average before: ${load()}`);
  const settings = setup(dir, models, values.images!, values.imgsz!, source);
  for (const scale of models.split(",")) {
    const runs: DetectRun[][] = ENGINES.map(() => []);
    const summaries = compareEngineSet({
      label: `yolov5${scale}`,
      reps: Number(values.reps),
      engines: ENGINES,
      args: [settings, scale, join(dir, "runs")],
      onResult: (i, _rep, r) => {
        runs[i]!.push(r as unknown as DetectRun);
      },
    });
    // every run of every engine should find as many cells (same weights, same settings)
    const cells = [...new Set(runs.flat().map((r) => (r.cells / r.images).toFixed(2)))];
    const same = cells.length === 1 ? "the same in every run of every engine" : "DIFFERENT between runs or engines";
    console.log(`\nyolov5${scale}: cells per image ${cells.join(" / ")} (${same})`);
    console.log("\n| engine | images/s (median) | ms/image | speed-up over PyTorch, median (min–max) | peak RSS |");
    console.log("|---|---|---|---|---|");
    summaries.forEach((s) => {
      console.log(
        `| ${s.name} | ${fmt(1000 / s.ms, 2)} | ${fmt(s.ms)} | ${fmt(s.speedup, 2)} (${fmt(s.speedupMin, 2)}–${fmt(s.speedupMax, 2)}) | ${s.peakRssMiB.toFixed(0)} MiB |`,
      );
    });
    console.log(`\nms/image per stage (median of ${values.reps} runs):\n`);
    console.log(`| stage | ${ENGINES.map((e) => e.name).join(" | ")} |`);
    console.log(`|---|${ENGINES.map(() => "---").join("|")}|`);
    for (const stage of STAGES) {
      const row = runs.map((rs) => fmt(median(rs.map((r) => r.stages[stage] ?? 0))));
      console.log(`| ${stage} | ${row.join(" | ")} |`);
    }
    console.log(`| **all (wall)** | ${summaries.map((s) => `**${fmt(s.ms)}**`).join(" | ")} |`);
  }
  console.log(`\nload average after: ${load()}`);
}

main();
