// Benchmark check (issue 23), not a test: the same initial weights, batch, loss, groups, warm-up step and EMA in sladet.
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const D = `${ROOT}dist/src`;
const OUT = process.env.OUT ?? "/tmp/yolov5-parity";
const { setupModel } = await import(`${D}/train/model-setup.js`);
const { loadHyp } = await import(`${D}/train/hyp.js`);
const { ComputeLoss } = await import(`${D}/train/loss/compute-loss.js`);
const { scaleLossGains } = await import(`${D}/train/loss/hyp.js`);
const { splitParameterGroups } = await import(`${D}/train/param-groups.js`);
const { scaledWeightDecay } = await import(`${D}/train/schedule.js`);
const { ModelEMA } = await import(`${D}/train/ema.js`);
const { YoloModel } = await import(`${D}/model/yolo.js`);
const { loadSafetensors, SGD, clipGradNorm } = await import(`${D}/torch/index.js`);
const ref = loadSafetensors(`${OUT}/yolo_side.safetensors`).tensors;
const { hyp } = loadHyp(`${ROOT}src/train/cfg/hyp.scratch-low.yaml`);
const { model, messages } = setupModel({ weights: `${OUT}/init.pt`, nc: 3, names: ["RBC", "WBC", "Platelets"] });
console.log(messages.join("\n"));
const ema = new ModelEMA(new YoloModel(model.yaml, { names: model.names, initBiases: false }), model);
model.train();
const out = model.forward(ref.get("images"), { decode: false });
const scaled = scaleLossGains(hyp, { levels: model.detect.nl, classes: model.nc, imgsz: 640 });
const cl = new ComputeLoss({ nc: model.nc, anchors: model.detect.anchors.data, strides: model.stride, hyp: scaled });
const { loss, items } = cl.compute(out.maps, ref.get("targets"));
console.log("sladet loss", loss.item(), items.toArray(), "yolo", ref.get("loss").toArray(), ref.get("items").toArray());
loss.backward();
const g = splitParameterGroups(model);
console.log("groups biases/weights/norm", g.biases.length, g.weights.length, g.normWeights.length);
const opt = new SGD(
  [
    { params: g.biases },
    { params: g.weights, weightDecay: scaledWeightDecay(hyp.weight_decay, 16) },
    { params: g.normWeights },
  ],
  { lr: hyp.lr0, momentum: hyp.momentum, nesterov: true },
);
for (const [k, pg] of opt.paramGroups.entries()) {
  pg.lr = k === 0 ? 0.1 : 0;
  pg.momentum = 0.8;
}
const norm = clipGradNorm(model.parameters(), 10);
opt.step();
ema.update(model);
console.log("grad norm", norm, "yolo", ref.get("norm").toArray()[0]);
const diff = (prefix, sd) => {
  let worst = 0,
    wk = "";
  for (const [k, v] of sd) {
    const r = ref.get(`${prefix}.${k}`);
    if (!r) {
      if (!k.includes("num_batches")) console.log("missing", prefix, k);
      continue;
    }
    const a = v.toArray(),
      b = r.toArray();
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (d > worst) {
        worst = d;
        wk = k;
      }
    }
  }
  console.log(prefix, "max |diff|", worst, wk);
};
diff("stepped", model.stateDict());
diff("ema", ema.ema.stateDict());

// a fresh sladet model under YOLOv5's seed (train.py: init_seeds(seed + 1)) equals the file's initial weights
const { manualSeed } = await import(`${D}/torch/index.js`);
const init = setupModel({ weights: `${OUT}/init.pt`, nc: 3, names: ["RBC", "WBC", "Platelets"] }).model.stateDict();
manualSeed(1);
const fresh = setupModel({ cfg: "yolov5n", nc: 3, names: ["RBC", "WBC", "Platelets"] }).model.stateDict();
let worst = 0;
for (const [k, v] of fresh) {
  const a = v.toArray(),
    b = init.get(k).toArray();
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(Number(a[i]) - Number(b[i])));
}
console.log("fresh model vs YOLOv5's with the same seed: max |diff|", worst, "over", fresh.size, "tensors");

// the warm-up schedule over the BCCD run's first 150 iterations and the EMA decay over 3000 updates
const { readFileSync } = await import("node:fs");
const { iterationSettings, warmupIterations } = await import(`${D}/train/schedule.js`);
const side = JSON.parse(readFileSync(`${OUT}/yolo_side.json`, "utf8"));
const warmup = warmupIterations(hyp, 13);
let sched = 0;
side.schedule.forEach((row, ni) => {
  const s = iterationSettings(hyp, {
    ni,
    epoch: Math.floor(ni / 13),
    epochs: 100,
    warmup,
    batchSize: 16,
    cosine: false,
    groups: 3,
  });
  [...s.lr, s.momentum, s.accumulate].forEach((v, k) => {
    sched = Math.max(sched, Math.abs(v - row[k]));
  });
});
console.log(
  "warm-up iterations",
  warmup,
  "yolo",
  side.warmup,
  "; lr/momentum/accumulate over 150 iterations: max |diff|",
  sched,
);
const probe = new ModelEMA(new YoloModel(model.yaml, { names: model.names, initBiases: false }), model);
let decay = 0;
side.ema_decay.forEach((d, u) => {
  probe.updates = u + 1;
  decay = Math.max(decay, Math.abs(probe.currentDecay() - d));
});
console.log("EMA decay over 3000 updates: max |diff|", decay);
