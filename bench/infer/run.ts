/**
 * Inference benchmark: batch-1 YOLOv5n and YOLOv5s at 640×640, decode included, in onnxruntime-node (sladet's ONNX
 * export), sladet eager (libtorch, eval, unfused) and PyTorch 1.13 eager (Debian python3-torch, the same architecture
 * built by tools/oracle/models.py from the same YAML): same allocator (jemalloc, same MALLOC_CONF) and thread count,
 * as interleaved sequential processes (never concurrent), rotating the order. Prints, per model, each engine's median
 * time and its speed-up over PyTorch eager (PyTorch time / engine time) with the spread over repetitions.
 *
 *   bin/sladet-node dist/bench/infer/run.js [--models n,s] [--reps 7] [--imgsz 640] [--warmup 3] [--iters 10]
 */
import { parseArgs } from "node:util";
import { benchHeader, compareEngineSet } from "../common/compare.js";

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
  benchHeader(`YOLOv5 inference, batch 1, ${values.imgsz}², decode included; ${values.iters} timed forwards/run`);
  for (const scale of (values.models ?? "n,s").split(",")) {
    compareEngineSet({
      label: `yolov5${scale}`,
      reps: Number(values.reps),
      args: [scale, values.imgsz, values.warmup, values.iters] as string[],
      engines: [
        { name: "onnxruntime", engine: "sladet", script: "dist/bench/infer/onnx-infer.js" },
        { name: "sladet-libtorch", engine: "sladet", script: "dist/bench/infer/sladet-infer.js" },
        { name: "PyTorch", engine: "pytorch", script: "bench/infer/torch_infer.py" },
      ],
    });
  }
}

main();
