/**
 * Interleaved sladet-vs-PyTorch comparison shared by the benchmarks: each repetition runs the sladet child and the
 * PyTorch child one after the other (never concurrently), alternating which goes first so drift in machine load does
 * not favour one side. Both children inherit this process's environment (LD_PRELOAD=jemalloc, MALLOC_CONF and
 * SLADET_THREADS from bin/sladet-node), so the allocator and thread count are the same. Children print one JSON line.
 * `SLADET_BENCH_PYTORCH_MALLOC=glibc` runs the PyTorch child as PyTorch users run it instead: glibc malloc (the
 * launcher's LD_PRELOAD and MALLOC_CONF removed from its environment).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../src/util/package-root.js";

/** What a benchmark child prints (one JSON line). */
export interface RunResult {
  engine: string;
  times: number[];
  peakRssMiB: number;
  threads: number;
  /** Whatever else a child reports (e.g. bench/detect's per-stage times). */
  [extra: string]: unknown;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Peak resident set size of this process (VmHWM), MiB. */
export function peakRssMiB(): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM"));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

/** The environment of a child: this process's, less jemalloc for PyTorch under SLADET_BENCH_PYTORCH_MALLOC=glibc. */
function childEnv(engine: "sladet" | "pytorch"): NodeJS.ProcessEnv {
  const malloc = process.env["SLADET_BENCH_PYTORCH_MALLOC"] ?? "jemalloc";
  if (malloc !== "jemalloc" && malloc !== "glibc")
    throw new Error(`SLADET_BENCH_PYTORCH_MALLOC: expected jemalloc or glibc, found "${malloc}"`);
  if (engine === "sladet" || malloc === "jemalloc") return process.env;
  const { LD_PRELOAD: _preload, MALLOC_CONF: _conf, ...env } = process.env;
  return env;
}

/** Refuses to run outside bin/sladet-node (both engines must get jemalloc) and prints the machine line. */
export function benchHeader(workload: string): void {
  if (!(process.env["LD_PRELOAD"] ?? "").includes("jemalloc")) {
    throw new Error("run through bin/sladet-node so both engines get jemalloc");
  }
  console.log(
    `CPU: ${cpus()[0]?.model} × ${cpus().length}; threads ${process.env["SLADET_THREADS"]}; ${new Date().toISOString()}`,
  );
  console.log(`workload: ${workload}`);
  console.log(
    `PyTorch's allocator: ${process.env["SLADET_BENCH_PYTORCH_MALLOC"] ?? "jemalloc"} (SLADET_BENCH_PYTORCH_MALLOC)`,
  );
}

/**
 * Runs one benchmark child to completion and returns its JSON line: a compiled sladet script under dist/ (through
 * bin/sladet-node) or a PyTorch script (/usr/bin/python3), path relative to the package root.
 */
export function runChild(engine: "sladet" | "pytorch", script: string, args: readonly string[]): RunResult {
  const [cmd, ...rest] =
    engine === "sladet"
      ? [join(PACKAGE_ROOT, "bin", "sladet-node"), join(PACKAGE_ROOT, script)]
      : ["/usr/bin/python3", join(PACKAGE_ROOT, script)];
  const r = spawnSync(cmd!, [...rest, ...args], { encoding: "utf8", maxBuffer: 64 << 20, env: childEnv(engine) });
  if (r.status !== 0) throw new Error(`${engine} run failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as RunResult;
}

export interface Comparison {
  sladetMs: number;
  pytorchMs: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  rssSladet: number;
  rssPytorch: number;
}

/** One engine of a multi-engine comparison: a name and a child to run (a compiled sladet script or a Python one). */
export interface EngineChild {
  name: string;
  engine: "sladet" | "pytorch";
  script: string;
  /** Arguments after the shared ones (e.g. a backend). */
  args?: readonly string[];
}

/** Per engine: median time over repetitions, and per repetition the time ratio against the reference engine. */
export interface EngineSummary {
  name: string;
  ms: number;
  /** Median, min and max over repetitions of (reference time / this engine's time): > 1 = faster than the reference. */
  speedup: number;
  speedupMin: number;
  speedupMax: number;
  peakRssMiB: number;
}

/**
 * Runs `reps` repetitions of every engine's child one after the other, rotating the order each repetition so that
 * drift in machine load favours none; the last engine is the reference the speed-ups are computed against.
 */
export function compareEngineSet(options: {
  label: string;
  reps: number;
  engines: readonly EngineChild[];
  args: readonly string[];
  /** Called with every child's result (engine index, repetition, the JSON line). */
  onResult?: (engine: number, rep: number, result: RunResult) => void;
}): EngineSummary[] {
  const { engines } = options;
  const times = engines.map(() => [] as number[]);
  const rss = engines.map(() => 0);
  const speedups = engines.map(() => [] as number[]);
  for (let rep = 0; rep < options.reps; rep++) {
    const order = engines.map((_, i) => (i + rep) % engines.length);
    const ms: number[] = [];
    for (const i of order) {
      const r = runChild(engines[i]!.engine, engines[i]!.script, [...options.args, ...(engines[i]!.args ?? [])]);
      options.onResult?.(i, rep, r);
      ms[i] = median(r.times);
      rss[i] = Math.max(rss[i]!, r.peakRssMiB);
    }
    const ref = ms[engines.length - 1]!;
    ms.forEach((m, i) => {
      times[i]!.push(m);
      speedups[i]!.push(ref / m);
    });
    console.log(
      `${options.label} rep ${rep + 1}/${options.reps}: ${engines.map((e, i) => `${e.name} ${ms[i]!.toFixed(1)} ms`).join(", ")}`,
    );
  }
  const summaries = engines.map((e, i) => {
    const sorted = [...speedups[i]!].sort((a, b) => a - b);
    return {
      name: e.name,
      ms: median(times[i]!),
      speedup: median(speedups[i]!),
      speedupMin: sorted[0]!,
      speedupMax: sorted[sorted.length - 1]!,
      peakRssMiB: rss[i]!,
    };
  });
  const ref = engines[engines.length - 1]!.name;
  for (const s of summaries)
    console.log(
      `${options.label}: ${s.name} ${s.ms.toFixed(1)} ms (median of ${options.reps} runs); ${ref}/${s.name} time ratio median ` +
        `${s.speedup.toFixed(2)} (min ${s.speedupMin.toFixed(2)}, max ${s.speedupMax.toFixed(2)}); peak RSS ${s.peakRssMiB.toFixed(0)} MiB`,
    );
  return summaries;
}

/**
 * Runs `reps` interleaved repetitions; `sladetScript` is a compiled file under dist/, `pytorchScript` a Python file
 * (run with /usr/bin/python3), both relative to the package root.
 */
export function compareEngines(options: {
  label: string;
  reps: number;
  sladetScript: string;
  pytorchScript: string;
  args: readonly string[];
}): Comparison {
  const [sl, pt] = compareEngineSet({
    label: options.label,
    reps: options.reps,
    args: options.args,
    engines: [
      { name: "sladet", engine: "sladet", script: options.sladetScript },
      { name: "PyTorch", engine: "pytorch", script: options.pytorchScript },
    ],
  }) as [EngineSummary, EngineSummary];
  return {
    sladetMs: sl.ms,
    pytorchMs: pt.ms,
    ratio: 1 / sl.speedup,
    ratioMin: 1 / sl.speedupMax,
    ratioMax: 1 / sl.speedupMin,
    rssSladet: sl.peakRssMiB,
    rssPytorch: pt.peakRssMiB,
  };
}
