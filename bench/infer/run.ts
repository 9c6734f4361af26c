/**
 * Inference benchmark: batch-1 eager inference (eval, unfused, decode included) of YOLOv5n and YOLOv5s at 640×640 in
 * sladet and in PyTorch 1.13 (Debian python3-torch, the same architecture built by tools/oracle/models.py), same
 * allocator (jemalloc, same MALLOC_CONF) and thread count, as interleaved sequential processes (never concurrent).
 * Prints, per model, the median time ratio sladet/PyTorch with its spread over repetitions, and peak RSS.
 *
 *   bin/sladet-node dist/bench/infer/run.js [--models n,s] [--reps 7] [--imgsz 640] [--warmup 3] [--iters 10]
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PACKAGE_ROOT } from "../../src/torch/native.js";

interface RunResult {
  engine: string;
  times: number[];
  peakRssMiB: number;
  threads: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function runOnce(engine: "sladet" | "pytorch", args: string[]): RunResult {
  const command =
    engine === "sladet"
      ? [join(PACKAGE_ROOT, "bin", "sladet-node"), join(PACKAGE_ROOT, "dist", "bench", "infer", "sladet-infer.js")]
      : ["/usr/bin/python3", join(PACKAGE_ROOT, "bench", "infer", "torch_infer.py")];
  // Both children inherit this process's environment: LD_PRELOAD=jemalloc, MALLOC_CONF and SLADET_THREADS set by
  // bin/sladet-node, so the allocator and thread count are the same on both sides.
  const r = spawnSync(command[0]!, [...command.slice(1), ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${engine} run failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as RunResult;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      models: { type: "string", default: "n,s" },
      reps: { type: "string", default: "7" },
      imgsz: { type: "string", default: "640" },
      warmup: { type: "string", default: "3" },
      iters: { type: "string", default: "10" },
    },
  });
  if (!(process.env["LD_PRELOAD"] ?? "").includes("jemalloc")) {
    throw new Error("run through bin/sladet-node so both engines get jemalloc");
  }
  const reps = Number(values.reps);
  console.log(
    `CPU: ${cpus()[0]?.model} × ${cpus().length}; threads ${process.env["SLADET_THREADS"]}; ${new Date().toISOString()}`,
  );
  console.log(
    `workload: YOLOv5 eager inference, batch 1, ${values.imgsz}², eval, unfused, decode included; ${values.iters} timed forwards/run`,
  );
  for (const scale of (values.models ?? "n,s").split(",")) {
    const args = [scale, values.imgsz, values.warmup, values.iters] as string[];
    const ratios: number[] = [];
    const sl: number[] = [];
    const pt: number[] = [];
    const rss = { sladet: 0, pytorch: 0 };
    for (let rep = 0; rep < reps; rep++) {
      // alternate which engine goes first, so drift in machine load does not favour one side
      const order: Array<"sladet" | "pytorch"> = rep % 2 === 0 ? ["sladet", "pytorch"] : ["pytorch", "sladet"];
      const results = Object.fromEntries(order.map((e) => [e, runOnce(e, args)])) as Record<string, RunResult>;
      const s = median(results["sladet"]!.times);
      const p = median(results["pytorch"]!.times);
      sl.push(s);
      pt.push(p);
      ratios.push(s / p);
      rss.sladet = Math.max(rss.sladet, results["sladet"]!.peakRssMiB);
      rss.pytorch = Math.max(rss.pytorch, results["pytorch"]!.peakRssMiB);
      console.log(
        `yolov5${scale} rep ${rep + 1}/${reps}: sladet ${s.toFixed(1)} ms, PyTorch ${p.toFixed(1)} ms, ratio ${(s / p).toFixed(3)}`,
      );
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(
      `yolov5${scale}: sladet ${median(sl).toFixed(1)} ms, PyTorch ${median(pt).toFixed(1)} ms (medians of ${reps} runs); ` +
        `ratio median ${median(ratios).toFixed(3)} (min ${sorted[0]!.toFixed(3)}, max ${sorted[sorted.length - 1]!.toFixed(3)}); ` +
        `peak RSS sladet ${rss.sladet.toFixed(0)} MiB, PyTorch ${rss.pytorch.toFixed(0)} MiB\n`,
    );
  }
}

main();
