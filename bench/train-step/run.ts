/**
 * Training-step benchmark (issue 9): one full training step of YOLOv5 at 640, batch 8, loader excluded — forward
 * (train mode, raw maps), the seed's loss (YOLOv5's ComputeLoss, hyp.scratch-high with fl_gamma 1.5, gains scaled to
 * nc 14), backward, gradient-norm clipping at 10, and an SGD Nesterov step over YOLOv5's three parameter groups — in
 * sladet and in PyTorch 1.13 (tools/oracle/models.py + tools/oracle/yolo_loss.py, the loss parity-tested against
 * ours), same fixed random batch shape, same targets (written here once, read by both children), same allocator and
 * thread count, as interleaved sequential processes. Prints per model the median time ratio sladet/PyTorch with its
 * spread over repetitions and peak RSS; then the sladet-only time and peak RSS of the `--solo` models (YOLOv5x: what
 * the seed's recipe costs per batch on CPU).
 *
 *   bin/sladet-node dist/bench/train-step/run.js [--models n,s] [--solo x] [--solo-pytorch] [--reps 5]
 *     [--batch 8] [--imgsz 640] [--boxes 10] [--warmup 1] [--iters 3]
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_HYP } from "../../src/train/hyp.js";
import { scaleLossGains } from "../../src/train/loss/hyp.js";
import { benchHeader, compareEngines, median, runChild } from "../common/compare.js";

/** Classes of the seed's detector (LLD's 14 WBC classes). */
export const BENCH_NC = 14;

/** Deterministic targets in the §7.1 layout [N, 13]: image, class, xc, yc, w, h (normalised), 7 attributes (−1). */
function makeTargets(batch: number, perImage: number, nc: number): number[][] {
  let s = 12345;
  const rnd = (): number => {
    // mulberry32
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rows: number[][] = [];
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < perImage; k++) {
      const w = 0.02 + rnd() * 0.13;
      const h = 0.02 + rnd() * 0.13;
      const xc = w / 2 + rnd() * (1 - w);
      const yc = h / 2 + rnd() * (1 - h);
      rows.push([b, Math.floor(rnd() * nc), xc, yc, w, h, -1, -1, -1, -1, -1, -1, -1]);
    }
  }
  return rows;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      models: { type: "string", default: "n,s" },
      solo: { type: "string", default: "x" },
      "solo-pytorch": { type: "boolean", default: false },
      reps: { type: "string", default: "5" },
      batch: { type: "string", default: "8" },
      imgsz: { type: "string", default: "640" },
      boxes: { type: "string", default: "10" },
      warmup: { type: "string", default: "1" },
      iters: { type: "string", default: "3" },
    },
  });
  const [batch, imgsz] = [Number(values.batch), Number(values.imgsz)];
  const targets = makeTargets(batch, Number(values.boxes), BENCH_NC);
  // the gains both sides use: the seed's hyp scaled as the trainer scales it (3 levels, nc 14, imgsz)
  const hyp = scaleLossGains(DEFAULT_HYP, { levels: 3, classes: BENCH_NC, imgsz });
  const spec = join(tmpdir(), `sladet-train-step-${process.pid}.json`);
  writeFileSync(
    spec,
    JSON.stringify({
      nc: BENCH_NC,
      targets,
      hyp: {
        box: hyp.box,
        obj: hyp.obj,
        cls: hyp.cls,
        cls_pw: hyp.cls_pw,
        obj_pw: hyp.obj_pw,
        fl_gamma: hyp.fl_gamma,
        anchor_t: hyp.anchor_t,
        label_smoothing: hyp.label_smoothing,
      },
      lr: DEFAULT_HYP.lr0,
      momentum: DEFAULT_HYP.momentum,
      weightDecay: DEFAULT_HYP.weight_decay,
    }),
  );
  benchHeader(
    `YOLOv5 training step, batch ${batch}, ${imgsz}², nc ${BENCH_NC}, ${targets.length} targets: forward + seed loss + ` +
      `backward + clip 10 + SGD (3 groups); ${values.warmup} warmup + ${values.iters} timed steps/run`,
  );
  const args = [values.batch, values.imgsz, values.warmup, values.iters, spec] as string[];
  for (const scale of (values.models ?? "").split(",").filter(Boolean)) {
    compareEngines({
      label: `yolov5${scale}`,
      reps: Number(values.reps),
      sladetScript: "dist/bench/train-step/sladet-train-step.js",
      pytorchScript: "bench/train-step/torch_train_step.py",
      args: [scale, ...args],
    });
  }
  for (const scale of (values.solo ?? "").split(",").filter(Boolean)) {
    const engines: Array<"sladet" | "pytorch"> = values["solo-pytorch"] ? ["sladet", "pytorch"] : ["sladet"];
    for (const engine of engines) {
      const script =
        engine === "sladet" ? "dist/bench/train-step/sladet-train-step.js" : "bench/train-step/torch_train_step.py";
      const r = runChild(engine, script, [scale, ...args]);
      console.log(
        `yolov5${scale} ${engine} (one run): step ${median(r.times).toFixed(0)} ms median of ` +
          `[${r.times.map((t) => t.toFixed(0)).join(", ")}]; peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
      );
    }
  }
}

main();
