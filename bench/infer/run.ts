/**
 * Inference benchmark: batch-1 eager inference (eval, unfused, decode included) of YOLOv5n and YOLOv5s at 640×640 in
 * sladet and in PyTorch 1.13 (Debian python3-torch, the same architecture built by tools/oracle/models.py), same
 * allocator (jemalloc, same MALLOC_CONF) and thread count, as interleaved sequential processes (never concurrent).
 * Prints, per model, the median time ratio sladet/PyTorch with its spread over repetitions, and peak RSS.
 *
 *   bin/sladet-node dist/bench/infer/run.js [--models n,s] [--reps 7] [--imgsz 640] [--warmup 3] [--iters 10]
 */
import { parseArgs } from "node:util";
import { benchHeader, compareEngines } from "../common/compare.js";

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
  benchHeader(
    `YOLOv5 eager inference, batch 1, ${values.imgsz}², eval, unfused, decode included; ${values.iters} timed forwards/run`,
  );
  for (const scale of (values.models ?? "n,s").split(",")) {
    compareEngines({
      label: `yolov5${scale}`,
      reps: Number(values.reps),
      sladetScript: "dist/bench/infer/sladet-infer.js",
      pytorchScript: "bench/infer/torch_infer.py",
      args: [scale, values.imgsz, values.warmup, values.iters] as string[],
    });
  }
}

main();
