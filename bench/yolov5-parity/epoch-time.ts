/**
 * Training epoch time and peak RSS, sladet against Ultralytics YOLOv5 v7.0, interleaved (issue 23 item 4): rounds of
 * A = `sladet pretrain` then B = Ultralytics `train.py`, each a fresh run of `--epochs` epochs of the same training
 * (BCCD, YOLOv5n from scratch, hyp.scratch-low, 640, batch 16, RAM cache, the same workers and threads), so that the
 * machine's slow drifts fall on both. Per epoch, the training part (the progress bar's elapsed time at its last batch;
 * validation and caching excluded); per run, the peak RSS (`/usr/bin/time -v`: the largest process). Prints each
 * epoch's times, then medians with their ranges and the ratio sladet / Ultralytics (≤ 1.0: sladet as fast or faster).
 *
 *   bin/sladet-node dist/bench/yolov5-parity/epoch-time.js --data BCCD_LLD [--rounds 2] [--epochs 5] [--workers 2]
 *     [--threads 2] [--yolov5 /tmp/yolov5] [--out /tmp/yolov5-epoch-time]
 *
 * BCCD_LLD: BCCD converted as bench/bccd/run.sh does (5-column labels, which YOLOv5 reads too); Ultralytics gets a
 * hard-linked copy (it writes *.cache files beside the labels). Ultralytics runs offline as
 * ../shared/tools/ultralytics/README.md says (Debian packages, env.sh, yolo_offline.py).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const ULTRALYTICS_TOOLS = resolve("../shared/tools/ultralytics");

interface RunTimes {
  tool: "sladet" | "ultralytics";
  round: number;
  /** Training seconds of each epoch. */
  epochs: number[];
  peakRssMiB: number;
  wallSeconds: number;
}

/** sladet's bar: "epoch 3/5 13/13 100% [39.5s<0.0s, …": the elapsed seconds at each epoch's last batch. */
export function sladetEpochSeconds(log: string): number[] {
  const out: number[] = [];
  for (const m of log.matchAll(/^epoch (\d+)\/\d+ (\d+)\/(\d+) 100% \[([\d.]+)s</gm)) out.push(Number(m[4]));
  return out;
}

/**
 * tqdm's bar in train.py: v7.0's format "  3/99  0G  0.1181 … 640: 100%|…| 13/13 00:26" (the epoch from 0, then
 * the batch count and the elapsed time; tqdm's default "13/13 [00:26<00:00, 2.01s/it]" is read too): the elapsed
 * seconds at each epoch's last batch, the last such line per epoch (tqdm may redraw it at close; 1 s resolution).
 * val.py's bar lines start with "Class" and are skipped by the epoch prefix.
 */
export function ultralyticsEpochSeconds(log: string): number[] {
  const byEpoch = new Map<number, number>();
  for (const line of log.split(/[\r\n]/)) {
    const epoch = line.match(/^\s*(\d+)\/\d+\s/);
    const bar = line.match(/ (\d+)\/(\d+) \[?(?:(\d+):)?(\d+):(\d+)(?:<|\s*$)/);
    if (!epoch || !bar || bar[1] !== bar[2]) continue;
    byEpoch.set(Number(epoch[1]), Number(bar[3] ?? 0) * 3600 + Number(bar[4]) * 60 + Number(bar[5]));
  }
  return [...byEpoch.entries()].sort((x, y) => x[0] - y[0]).map(([, s]) => s);
}

function peakRssMiB(timeOutput: string): number {
  const m = timeOutput.match(/Maximum resident set size \(kbytes\): (\d+)/);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

interface Options {
  data: string;
  epochs: number;
  workers: number;
  threads: number;
  yolov5: string;
  out: string;
}

function timed(
  command: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  logFile: string,
): { log: string; rss: number; wall: number } {
  const start = Date.now();
  const r = spawnSync("/usr/bin/time", ["-v", ...command], { cwd, env, encoding: "utf8", maxBuffer: 1 << 28 });
  const wall = (Date.now() - start) / 1000;
  const log = `${r.stdout}\n${r.stderr}`;
  writeFileSync(logFile, log);
  if (r.status !== 0) throw new Error(`${command.join(" ")} failed (exit ${r.status}); log: ${logFile}`);
  return { log, rss: peakRssMiB(r.stderr), wall };
}

function runSladet(o: Options, round: number): RunTimes {
  const name = `sladet-${round}`;
  const { log, rss, wall } = timed(
    [
      resolve("bin/sladet"),
      "pretrain",
      "--data",
      join(o.data, "data.yaml"),
      "--cfg",
      "yolov5n",
      "--hyp",
      resolve("src/train/cfg/hyp.scratch-low.yaml"),
      "--epochs",
      String(o.epochs),
      "--batch-size",
      "16",
      "--imgsz",
      "640",
      "--cache",
      "ram",
      "--workers",
      String(o.workers),
      "--seed",
      "0",
      "--project",
      o.out,
      "--name",
      name,
      "--exist-ok",
    ],
    { ...process.env, SLADET_THREADS: String(o.threads) },
    process.cwd(),
    join(o.out, `${name}.log`),
  );
  return { tool: "sladet", round, epochs: sladetEpochSeconds(log), peakRssMiB: rss, wallSeconds: wall };
}

/** A hard-linked copy of the data for Ultralytics and its data YAML (absolute path, the same split and names). */
function ultralyticsData(o: Options): string {
  const copy = join(o.out, "data-yolov5");
  if (!existsSync(copy)) spawnSync("cp", ["-al", o.data, copy], { stdio: "inherit" });
  const yaml = readFileSync(join(o.data, "data.yaml"), "utf8").replace(/^path:.*$/m, `path: ${copy}`);
  const file = join(o.out, "data-yolov5.yaml");
  writeFileSync(file, /^path:/m.test(yaml) ? yaml : `path: ${copy}\n${yaml}`);
  return file;
}

function runUltralytics(o: Options, round: number, dataYaml: string): RunTimes {
  const name = `ultralytics-${round}`;
  const env = {
    ...process.env,
    YOLOv5_AUTOINSTALL: "False",
    YOLOV5_CONFIG_DIR: join(o.out, "yolov5-config"),
    OMP_NUM_THREADS: String(o.threads),
    PYTHONUNBUFFERED: "1",
    MPLBACKEND: "Agg",
  };
  mkdirSync(env.YOLOV5_CONFIG_DIR, { recursive: true });
  const font = join(env.YOLOV5_CONFIG_DIR, "Arial.ttf");
  if (!existsSync(font)) spawnSync("cp", ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", font]);
  const { log, rss, wall } = timed(
    [
      "/usr/bin/python3",
      join(ULTRALYTICS_TOOLS, "yolo_offline.py"),
      "train.py",
      "--img",
      "640",
      "--batch",
      "16",
      "--epochs",
      String(o.epochs),
      "--workers",
      String(o.workers),
      "--device",
      "cpu",
      "--noplots",
      "--cache",
      "ram",
      "--cfg",
      "yolov5n.yaml",
      "--hyp",
      "data/hyps/hyp.scratch-low.yaml",
      "--weights",
      "",
      "--data",
      dataYaml,
      "--project",
      o.out,
      "--name",
      name,
      "--exist-ok",
      "--seed",
      "0",
    ],
    env,
    o.yolov5,
    join(o.out, `${name}.log`),
  );
  return { tool: "ultralytics", round, epochs: ultralyticsEpochSeconds(log), peakRssMiB: rss, wallSeconds: wall };
}

function summary(
  runs: readonly RunTimes[],
  tool: RunTimes["tool"],
): { median: number; min: number; max: number; rss: number } {
  const epochs = runs.filter((r) => r.tool === tool).flatMap((r) => r.epochs);
  const rss = Math.max(...runs.filter((r) => r.tool === tool).map((r) => r.peakRssMiB));
  return { median: median(epochs), min: Math.min(...epochs), max: Math.max(...epochs), rss };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      data: { type: "string" },
      rounds: { type: "string", default: "2" },
      epochs: { type: "string", default: "5" },
      workers: { type: "string", default: "2" },
      threads: { type: "string", default: "2" },
      yolov5: { type: "string", default: "/tmp/yolov5" },
      out: { type: "string", default: "/tmp/yolov5-epoch-time" },
    },
  });
  if (!values.data) throw new Error("--data BCCD_LLD is required (BCCD converted as bench/bccd/run.sh does)");
  const o: Options = {
    data: resolve(values.data),
    epochs: Number(values.epochs),
    workers: Number(values.workers),
    threads: Number(values.threads),
    yolov5: resolve(values.yolov5),
    out: resolve(values.out),
  };
  rmSync(o.out, { recursive: true, force: true });
  mkdirSync(o.out, { recursive: true });
  console.log(
    `${new Date().toISOString()} CPU ${cpus()[0]?.model} × ${cpus().length}; load ${loadavg().map((v) => v.toFixed(1))}`,
  );
  const dataYaml = ultralyticsData(o);
  const runs: RunTimes[] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const run of [() => runSladet(o, round), () => runUltralytics(o, round, dataYaml)]) {
      const r = run();
      runs.push(r);
      console.log(
        `round ${round} ${r.tool}: epochs ${r.epochs.map((s) => s.toFixed(1)).join(", ")} s; peak RSS ${r.peakRssMiB.toFixed(0)} MiB; wall ${r.wallSeconds.toFixed(0)} s; load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
  }
  const a = summary(runs, "sladet");
  const b = summary(runs, "ultralytics");
  console.log("\n| | sladet | Ultralytics | ratio |\n|---|---|---|---|");
  console.log(
    `| training epoch, median (min–max) | ${a.median.toFixed(1)} s (${a.min.toFixed(1)}–${a.max.toFixed(1)}) | ${b.median.toFixed(1)} s (${b.min.toFixed(1)}–${b.max.toFixed(1)}) | **${(a.median / b.median).toFixed(2)}** |`,
  );
  console.log(`| peak RSS | ${a.rss.toFixed(0)} MiB | ${b.rss.toFixed(0)} MiB | ${(a.rss / b.rss).toFixed(2)} |`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
