/**
 * Phase-2 stability on the demo's data (issue 26 item 1): the README main job's phase 1 once, then phase-2 trials from
 * its weights with the trainer called exactly as the demo calls it (src/demo/main-job.ts), only the hyperparameters and
 * the seed changed; then the per-epoch table (labelled-region mAP50 of the validation split, pseudo-label count,
 * threshold and precision against the held-out boxes). Run from the package root (dist/ compiled):
 *
 *   bin/sladet-node dist/bench/phase2/run.js phase1 OUT
 *   bin/sladet-node dist/bench/phase2/run.js synth OUT IMAGES [AREA=0.3] [MAG=1] [CLASSES=1]   (instead of phase1's
 *     data: the demo's one-class films at MAG magnification with a larger validation split, AREA of each train/val
 *     image labelled in OUT/data, fully labelled in OUT/dense; CLASSES 14 keeps the films' 14 LLD classes; then
 *     `phase1 OUT keep`)
 *   bin/sladet-node dist/bench/phase2/run.js phase2 OUT NAME SEED ['{"hyp":{"pl_weight":0.1},"finetune":false}']
 *
 * The JSON's `hyp` goes over the demo's phase-2 hyp; its other keys over the demo's TrainOptions (e.g. finetune).
 *   bin/sladet-node dist/bench/phase2/run.js dense-ref OUT    (phase 1's last weights on OUT/dense's val split)
 *   bin/sladet-node dist/bench/phase2/run.js table OUT NAME...
 *   bin/sladet-node dist/bench/phase2/run.js test OUT ARM...   (the sparse ablation's table, issue 26 item 2: every
 *     run named ARM-s<SEED> scored on OUT/dense's fully labelled test split, its weights/best and weights/last, mean
 *     ± sample sd over the seeds; phase 1's own weights beside them)
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { collapseToOneClass, generateDataset } from "../../src/data/synth/index.js";
import { mainJobData, mainJobPhase1Options, mainJobPhase2Options } from "../../src/demo/main-job.js";
import { runTraining } from "../../src/runs/train-run.js";
import { runValidation } from "../../src/runs/val-run.js";
import type { TrainOptions } from "../../src/train/trainer.js";
import { meanSdRange } from "../common/seeds.js";

/** Columns of the per-epoch table, from results.csv. */
const COLUMNS = {
  region: "metrics/region_mAP_0.5",
  count: "pl/count",
  precision: "pl/precision",
  iou: "pl/iou",
  whole: "metrics/mAP_0.5",
} as const;

type Row = Record<string, number>;

function readResults(path: string): Row[] {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const names = (header ?? "").split(",");
  return lines.map((l) => {
    const v = l.split(",");
    return Object.fromEntries(names.map((n, i) => [n, v[i] === "" || v[i] === undefined ? Number.NaN : Number(v[i])]));
  });
}

/** Phase 1's weights phase 2 starts from, as the demo's (its best epoch; JSON `weights` overrides). */
const phase1Weights = (out: string) => join(out, "pretrain", "exp", "weights", "best.safetensors");
const dataYaml = (out: string) => join(out, "data", "data.yaml");

/** A run's per-epoch val mAP50: of the labelled regions, or of the whole images on a densely labelled set. */
function map50(r: Row): number {
  const region = r[COLUMNS.region];
  return region === undefined || Number.isNaN(region) ? r[COLUMNS.whole]! : region;
}

/** Phase 1's last and best labelled-region mAP50 (the references of the stability goals). */
function phase1Reference(out: string): { last: number; best: number } {
  const rows = readResults(join(out, "pretrain", "exp", "results.csv")).map(map50);
  return { last: rows[rows.length - 1]!, best: Math.max(...rows) };
}

/**
 * One cell of the table: val mAP50, then the pseudo-labels' count and precision (– when none), and the matched ones'
 * mean IoU with their held-out objects (runs from before the column have none).
 */
function cell(r: Row | undefined): string {
  if (!r) return "";
  const f = (x: number | undefined, d: number) => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(d));
  const count = r[COLUMNS.count] ?? 0;
  const iou = r[COLUMNS.iou];
  const fit = iou === undefined || Number.isNaN(iou) ? "" : `, IoU ${f(iou, 2)}`;
  const pl = count > 0 ? `${count} @ ${f(100 * r[COLUMNS.precision]!, 0)} %${fit}` : "0";
  return `${f(map50(r), 3)} · ${pl}`;
}

/**
 * The runs side by side: one row per epoch, then each run's minimum and its distance to phase 1's last and best
 * epochs (a run named `*dense*` is referred to `reference.json`: phase 1's last and best weights on the dense val split).
 */
function table(out: string, names: string[]): string {
  const ref = phase1Reference(out);
  const dense = denseReference(out);
  const runs = names.map((n) => readResults(join(out, "phase2", n, "results.csv")));
  const epochs = Math.max(...runs.map((r) => r.length));
  const lines = [
    `phase 1 val mAP50 (labelled regions): last epoch ${ref.last.toFixed(3)}, best ${ref.best.toFixed(3)}` +
      (dense === null
        ? ""
        : `; phase 1's last / best weights on the dense val split ${dense.last.toFixed(3)} / ${dense.best.toFixed(3)}`),
    "cells: val mAP50 (labelled regions; whole images for a dense run) · pseudo-labels selected @ their precision against the held-out boxes, and the matched ones' mean IoU",
    "",
    `| epoch | ${names.join(" | ")} |`,
    `|---|${names.map(() => "---").join("|")}|`,
  ];
  for (let e = 0; e < epochs; e++) lines.push(`| ${e + 1} | ${runs.map((r) => cell(r[e])).join(" | ")} |`);
  const minima = runs.map((r) => Math.min(...r.map(map50)));
  const start = (i: number) => (names[i]!.includes("dense") && dense !== null ? dense.last : ref.last);
  const best = (i: number) => (names[i]!.includes("dense") && dense !== null ? dense.best : ref.best);
  lines.push(`| min | ${minima.map((m) => m.toFixed(3)).join(" | ")} |`);
  lines.push(`| min − phase 1 last | ${minima.map((m, i) => (m - start(i)).toFixed(3)).join(" | ")} |`);
  lines.push(`| min − phase 1 best | ${minima.map((m, i) => (m - best(i)).toFixed(3)).join(" | ")} |`);
  return lines.join("\n");
}

/**
 * Phase 1's last and best weights validated on the dense copy (OUT/reference.json, written by `dense-ref`), or null.
 */
function denseReference(out: string): { last: number; best: number } | null {
  try {
    const ref = JSON.parse(readFileSync(join(out, "reference.json"), "utf8")) as { dense: number; denseBest?: number };
    return { last: ref.dense, best: ref.denseBest ?? Number.NaN };
  } catch {
    return null;
  }
}

/** mAP50 and mAP50-95 of `weights` on a split of OUT/dense (fully labelled), the run in OUT/<task>/NAME. */
async function denseScores(out: string, weights: string, task: "val" | "test", name: string) {
  const val = await runValidation({
    data: join(out, "dense", "data.yaml"),
    weights,
    task,
    imgsz: 192,
    project: join(out, task),
    name,
    existOk: true,
    verbose: false,
  });
  return { map50: val.result.all.map50, map: val.result.all.map };
}

/** {@link denseScores} on the test split, scored once (kept in OUT/test/NAME/scores.json). */
async function testScores(out: string, weights: string, name: string): Promise<{ map50: number; map: number }> {
  const saved = join(out, "test", name, "scores.json");
  if (existsSync(saved)) return JSON.parse(readFileSync(saved, "utf8"));
  const scores = await denseScores(out, weights, "test", name);
  writeFileSync(saved, JSON.stringify(scores));
  return scores;
}

/** The ablation's test table: one row per arm, over its runs ARM-s<SEED> in OUT/phase2. */
async function testTable(out: string, arms: string[]): Promise<string> {
  const p1 = join(out, "pretrain", "exp", "weights");
  const p1Best = await testScores(out, join(p1, "best.safetensors"), "phase1-best");
  const p1Last = await testScores(out, join(p1, "last.safetensors"), "phase1-last");
  const lines = [
    `phase 1 on the dense test split: best ${p1Best.map50.toFixed(3)} / ${p1Best.map.toFixed(3)}, last ${p1Last.map50.toFixed(3)} / ${p1Last.map.toFixed(3)} (mAP50 / mAP50-95)`,
    "",
    "| arm | seeds | test mAP50, best | test mAP50-95, best | test mAP50, last | test mAP50-95, last |",
    "|---|---|---|---|---|---|",
  ];
  const runs = readdirSync(join(out, "phase2"));
  for (const arm of arms) {
    const names = runs.filter((n) => new RegExp(`^${arm}-s\\d+$`).test(n)).sort();
    const best = [];
    const last = [];
    for (const n of names) {
      const w = join(out, "phase2", n, "weights");
      best.push(await testScores(out, join(w, "best.safetensors"), `${n}-best`));
      last.push(await testScores(out, join(w, "last.safetensors"), `${n}-last`));
    }
    if (names.length === 0) continue;
    const seeds = names.map((n) => n.slice(arm.length + 2)).join(", ");
    const col = (xs: { map50: number; map: number }[], k: "map50" | "map") => meanSdRange(xs.map((x) => x[k]));
    lines.push(
      `| ${arm} | ${seeds} | ${col(best, "map50")} | ${col(best, "map")} | ${col(last, "map50")} | ${col(last, "map")} |`,
    );
  }
  return lines.join("\n");
}

/** Validation share of {@link synthData}: ≥ 100 validation images from 400 (issue 26). */
export const SYNTH_SPLIT = [0.6, 0.25, 0.15] as const;

/**
 * The demo's films (192 px at `magnification`, `area` of each train/val image labelled, seed 0) with
 * {@link SYNTH_SPLIT}: sparse in OUT/data, the same images fully labelled in OUT/dense (the full-labels arm); one class
 * ("cell", the demo's) or the films' 14 LLD classes (`classes` 14: the similarity loss then has negatives).
 */
async function synthData(out: string, images: number, area: number, magnification: number, classes: number) {
  if (classes !== 1 && classes !== 14) throw new Error(`synth: CLASSES must be 1 or 14, not ${classes}`);
  const common = { images, seed: 0, imageSize: 192, magnification, split: SYNTH_SPLIT };
  await generateDataset({ ...common, out: join(out, "data"), sparseArea: area });
  await generateDataset({ ...common, out: join(out, "dense") });
  if (classes === 1) for (const dir of ["data", "dense"]) collapseToOneClass(join(out, dir));
}

async function main(argv: string[]): Promise<void> {
  const [command, out, ...rest] = argv;
  if (!out) throw new Error("usage: run.js phase1|phase2|table OUT ...");
  if (command === "synth") {
    await synthData(out, Number(rest[0] ?? 500), Number(rest[1] ?? 0.3), Number(rest[2] ?? 1), Number(rest[3] ?? 1));
  } else if (command === "phase1") {
    const data = rest[0] === "keep" ? dataYaml(out) : await mainJobData(out);
    await runTraining({ ...mainJobPhase1Options(out, data), verbose: false });
  } else if (command === "phase2") {
    const [name, seed, json] = rest;
    if (!name || seed === undefined) throw new Error("usage: run.js phase2 OUT NAME SEED [JSON]");
    const base = mainJobPhase2Options(out, dataYaml(out), phase1Weights(out), { seed: Number(seed), verbose: false });
    const { hyp: over = {}, ...options } = (json ? JSON.parse(json) : {}) as { hyp?: object } & Partial<TrainOptions>;
    const hyp = { ...(base.hyp as object), ...over };
    await runTraining({ ...base, ...options, hyp, project: join(out, "phase2"), name, existOk: true });
    process.stdout.write(`${table(out, [name])}\n`);
  } else if (command === "dense-ref") {
    const map50Of = async (weights: string, name: string) => (await denseScores(out, weights, "val", name)).map50;
    const denseBest = await map50Of(phase1Weights(out), "dense-best");
    const denseLast = await map50Of(phase1Weights(out).replace("best.safetensors", "last.safetensors"), "dense");
    writeFileSync(join(out, "reference.json"), JSON.stringify({ dense: denseLast, denseBest }));
  } else if (command === "table") {
    process.stdout.write(`${table(out, rest)}\n`);
  } else if (command === "test") {
    process.stdout.write(`${await testTable(out, rest)}\n`);
  } else throw new Error(`unknown command ${command}`);
}

await main(process.argv.slice(2));
