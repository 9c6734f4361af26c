/**
 * Interleaved sladet-vs-PyTorch comparison shared by the benchmarks: each repetition runs the sladet child and the
 * PyTorch child one after the other (never concurrently), alternating which goes first so drift in machine load does
 * not favour one side. Both children inherit this process's environment (LD_PRELOAD=jemalloc, MALLOC_CONF and
 * SLADET_THREADS from bin/sladet-node), so the allocator and thread count are the same. Children print one JSON line.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../src/torch/native.js";

/** What a benchmark child prints (one JSON line). */
export interface RunResult {
  engine: string;
  times: number[];
  peakRssMiB: number;
  threads: number;
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

/** Refuses to run outside bin/sladet-node (both engines must get jemalloc) and prints the machine line. */
export function benchHeader(workload: string): void {
  if (!(process.env["LD_PRELOAD"] ?? "").includes("jemalloc")) {
    throw new Error("run through bin/sladet-node so both engines get jemalloc");
  }
  console.log(
    `CPU: ${cpus()[0]?.model} × ${cpus().length}; threads ${process.env["SLADET_THREADS"]}; ${new Date().toISOString()}`,
  );
  console.log(`workload: ${workload}`);
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
  const r = spawnSync(cmd!, [...rest, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
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
  const scripts = { sladet: options.sladetScript, pytorch: options.pytorchScript };
  const runOnce = (engine: "sladet" | "pytorch"): RunResult => runChild(engine, scripts[engine], options.args);
  const ratios: number[] = [];
  const sl: number[] = [];
  const pt: number[] = [];
  let [rssSladet, rssPytorch] = [0, 0];
  for (let rep = 0; rep < options.reps; rep++) {
    const order: Array<"sladet" | "pytorch"> = rep % 2 === 0 ? ["sladet", "pytorch"] : ["pytorch", "sladet"];
    const results = Object.fromEntries(order.map((e) => [e, runOnce(e)])) as Record<"sladet" | "pytorch", RunResult>;
    const s = median(results.sladet.times);
    const p = median(results.pytorch.times);
    sl.push(s);
    pt.push(p);
    ratios.push(s / p);
    rssSladet = Math.max(rssSladet, results.sladet.peakRssMiB);
    rssPytorch = Math.max(rssPytorch, results.pytorch.peakRssMiB);
    console.log(
      `${options.label} rep ${rep + 1}/${options.reps}: sladet ${s.toFixed(1)} ms, PyTorch ${p.toFixed(1)} ms, ratio ${(s / p).toFixed(3)}`,
    );
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  const c: Comparison = {
    sladetMs: median(sl),
    pytorchMs: median(pt),
    ratio: median(ratios),
    ratioMin: sorted[0]!,
    ratioMax: sorted[sorted.length - 1]!,
    rssSladet,
    rssPytorch,
  };
  console.log(
    `${options.label}: sladet ${c.sladetMs.toFixed(1)} ms, PyTorch ${c.pytorchMs.toFixed(1)} ms (medians of ${options.reps} runs); ` +
      `ratio median ${c.ratio.toFixed(3)} (min ${c.ratioMin.toFixed(3)}, max ${c.ratioMax.toFixed(3)}); ` +
      `peak RSS sladet ${c.rssSladet.toFixed(0)} MiB, PyTorch ${c.rssPytorch.toFixed(0)} MiB (ratio ${(c.rssSladet / c.rssPytorch).toFixed(2)})`,
  );
  return c;
}
