/**
 * Engine benchmark: a YOLOv5n-like conv stack's forward + backward + SGD step at 640×640, batch 4, in sladet and in
 * PyTorch 1.13 (Debian python3-torch), same allocator (jemalloc, same MALLOC_CONF) and same thread count, run as
 * interleaved sequential processes (never concurrent). Prints the median step-time ratio sladet/PyTorch with its
 * spread over repetitions, and the peak RSS of each.
 *
 *   bin/sladet-node dist/bench/engine/run.js [--reps 7] [--batch 4] [--imgsz 640] [--warmup 2] [--steps 5]
 */
import { parseArgs } from "node:util";
import { benchHeader, compareEngines } from "../common/compare.js";

function main(): void {
  const { values } = parseArgs({
    options: {
      reps: { type: "string", default: "7" },
      batch: { type: "string", default: "4" },
      imgsz: { type: "string", default: "640" },
      warmup: { type: "string", default: "2" },
      steps: { type: "string", default: "5" },
    },
  });
  benchHeader(`conv stack fwd+bwd+SGD, batch ${values.batch}, ${values.imgsz}², ${values.steps} timed steps/run`);
  compareEngines({
    label: "conv stack step",
    reps: Number(values.reps),
    sladetScript: "dist/bench/engine/sladet-step.js",
    pytorchScript: "bench/engine/torch_step.py",
    args: [values.batch, values.imgsz, values.warmup, values.steps] as string[],
  });
}

main();
