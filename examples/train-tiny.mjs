// Synthesize a tiny blood-film dataset, train a tiny detector on it for a few epochs, validate it, print the mAP.
// Run it with jemalloc preloaded (the launcher does that):  npx sladet-node train-tiny.mjs [out-folder] [epochs]
import { join } from "node:path";
import { builtinModel, pretrain, synthesize, validate } from "sladet";

const [out = "runs/example", epochs = "3"] = process.argv.slice(2);
const imgsz = 128;

// 16 fields of view at 128 px, every cell labelled as one class "cell", 12 for training and 4 for validation
const dataset = await synthesize({
  out: join(out, "data"),
  images: 16,
  imageSize: imgsz,
  seed: 1,
  split: [0.75, 0.25, 0],
  oneClass: true,
  clean: true,
});
console.log(`dataset: ${dataset.dataYaml} (${dataset.images.train} train, ${dataset.images.val} val images)`);

// YOLOv5n at 1/8 of its width: small enough to learn something in seconds on a CPU
const model = { ...(await builtinModel("n", 1)), width_multiple: 0.125, depth_multiple: 0.33 };
const run = await pretrain({
  data: dataset.dataYaml,
  cfg: model,
  epochs: Number(epochs),
  batch: 4,
  imgsz,
  workers: 1,
  project: join(out, "pretrain"),
  hyp: { lr0: 0.02, warmup_epochs: 0, fl_gamma: 0, mosaic: 0, mixup: 0 },
  verbose: false,
});
console.log(`trained ${run.epochsRun} epochs: ${run.best}`);

const val = await validate({
  data: dataset.dataYaml,
  weights: run.runDir,
  imgsz,
  batch: 4,
  project: join(out, "val"),
  verbose: false,
});
const { map50, map } = val.result.all;
console.log(`mAP50 ${map50.toFixed(4)}  mAP50-95 ${map.toFixed(4)}  (${val.runDir}, report: ${val.report})`);
