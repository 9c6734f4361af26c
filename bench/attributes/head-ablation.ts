/**
 * The attribute head alone on the demo's data (issue 25's ablation): the head trained on the ground-truth cells of
 * the demo's sparse synthetic films with the demo's augmentation and schedule, then scored on the ground-truth cells
 * of the test split (perfect detections, so the numbers measure the head and nothing of the detector). With the image
 * tap and λ = 0 the head never touches the detector, so this is what the head learns inside the demo, minutes faster.
 *
 *   bin/sladet-node dist/bench/attributes/head-ablation.js --data /tmp/attr-demo [--epochs 68] [--lr 0.02]
 *     [--roi 24,30] [--balance none|prior] [--attr-hsv 1] [--imgsz 192] [--dropout 0.5] [--input-norm 1|0|channel|both] [--min-scale 0] [--steps 1] [--scale S] [--softmax 1] [--size-weight 1]
 *     [--size-box 0] [--clip 0] [--class-input 0] [--fine 1] [--batch 8] [--seed 0] [--label NAME] [--yaml DATA_YAML]
 *
 * `--data DIR` reuses DIR/data/data.yaml when it exists, else writes the demo's data there (160 images, 192 px, 30 %);
 * `--yaml` names any LLD data YAML instead (e.g. WBCAtt converted by `sladet convert --from wbcatt`). `--size-box 1`
 * gives the head the box-size term of `attr_size_box` (`sizeFromBox`, standardised by the training cells' sizes);
 * `--class-input 1` the cell's class as `attr_class` does (`classes`: here the label's class in training and in the
 * test, i.e. what a detector that classifies every cell right would give). `--fine K` pools the cells from a fine
 * view at K× `--imgsz` (hyp attr_image_scale: the same augmented pictures at K× the pixels). The training images are
 * cached in RAM (both views).
 * `--focus SEED,IMGSZ,MAGNIFICATION` (the synthetic films' `sladet synth` settings; the demo's: 0,192,2) also scores
 * the test split's in-focus and defocused fields apart (each film's scene regenerated for its focus).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DataLoader, loadSplitItems } from "../../src/data/loader.js";
import type { LoaderItem } from "../../src/data/sample-source.js";
import { generateScene } from "../../src/data/synth/generate-scene.js";
import { mainJobData } from "../../src/demo/main-job.js";
import { QUICKSTART_HYP, QUICKSTART_MODEL } from "../../src/demo/quickstart.js";
import { AttributeMetrics, formatAttributeTable, presentValuesMacroF1 } from "../../src/eval/attribute-metrics.js";
import { AttributeHead, attributeValues, type ImageNorm } from "../../src/model/attribute-head.js";
import { attributeLogits, imageTapInput } from "../../src/model/attribute-inference.js";
import { builtinModelYaml } from "../../src/model/config.js";
import { boxSizes } from "../../src/model/roi-pool.js";
import { YoloModel } from "../../src/model/yolo.js";
import { manualSeed, noGrad, tidy } from "../../src/torch/index.js";
import { AttributeBranch, targetBoxes } from "../../src/train/attribute-branch.js";
import { attributeStepLr } from "../../src/train/attribute-hyp.js";
import { binaryAttributePriors, cellSizeStatistics } from "../../src/train/attribute-priors.js";
import { DEFAULT_HYP } from "../../src/train/hyp.js";
import { SEED_ATTRIBUTE_LOSS } from "../../src/train/loss/attribute-loss.js";
import { lrFactor, scaledWeightDecay } from "../../src/train/schedule.js";

const { values: args } = parseArgs({
  options: {
    data: { type: "string", default: "/tmp/attr-demo" },
    epochs: { type: "string", default: "68" },
    lr: { type: "string", default: String(QUICKSTART_HYP.lr0) },
    roi: { type: "string", default: "24,30" },
    balance: { type: "string", default: "none" },
    "attr-hsv": { type: "string", default: "1" },
    imgsz: { type: "string", default: "192" },
    seed: { type: "string", default: "0" },
    label: { type: "string", default: "" },
    dropout: { type: "string", default: "0.5" },
    "min-scale": { type: "string", default: "0" },
    scale: { type: "string", default: "" },
    steps: { type: "string", default: "1" },
    softmax: { type: "string", default: "0" },
    "size-weight": { type: "string", default: "1" },
    "input-norm": { type: "string", default: "1" },
    "size-box": { type: "string", default: "0" },
    batch: { type: "string", default: "8" },
    clip: { type: "string", default: "0" },
    "class-input": { type: "string", default: "0" },
    fine: { type: "string", default: "1" },
    yaml: { type: "string" },
    focus: { type: "string" },
  },
});
const EPOCHS = Number(args.epochs);
const IMGSZ = Number(args.imgsz);
const BATCH = Number(args.batch);
const roi = args.roi!.split(",").map(Number) as [number, number];
const hsvFactor = Number(args["attr-hsv"]);
const FINE = Number(args.fine);
/** The head's fine view (attr_image_scale), for every loader: the same pictures at FINE× the pixels. */
const fineView = (hsv?: number) => (FINE === 1 ? {} : { fine: { scale: FINE, ...(hsv === undefined ? {} : { hsv }) } });
const hyp = { ...DEFAULT_HYP, ...QUICKSTART_HYP };
const augHyp = { ...hyp, ...(args.scale ? { scale: Number(args.scale) } : {}) };

const yaml = args.yaml ?? join(args.data!, "data", "data.yaml");
const data = existsSync(yaml) ? yaml : await mainJobData(args.data!, { verbose: false });
const [trainItems, testItems] = await Promise.all([loadSplitItems(data, "train"), loadSplitItems(data, "test")]);
const train = new DataLoader({
  items: trainItems,
  imgSize: IMGSZ,
  batchSize: BATCH,
  augment: true,
  hyp: augHyp,
  seed: 0,
  workers: 1,
  cache: "ram",
  ...(hsvFactor === 1 || FINE > 1 ? {} : { weakHsv: hsvFactor }),
  ...fineView(hsvFactor),
});
const test = new DataLoader({ items: testItems, imgSize: IMGSZ, batchSize: 16, workers: 1, ...fineView() });

const priors = binaryAttributePriors(trainItems);
process.stdout.write(`train priors of value 1 (a1..a6): ${priors.map((p) => p.toFixed(2)).join(" ")}\n`);

manualSeed(Number(args.seed));
const model = new YoloModel({ ...builtinModelYaml("n"), ...QUICKSTART_MODEL, nc: 1 }); // for the branch's tap lookup
const head = new AttributeHead({
  inChannels: 3,
  taps: ["image"],
  tapChannels: [3],
  roiSize: roi,
  dropout: Number(args.dropout),
  inputNorm: args["input-norm"] !== "0",
  imageNorm: (["channel", "both"].includes(args["input-norm"]!) ? args["input-norm"] : "cell") as ImageNorm,
  ...(args["size-box"] === "1" ? { sizeFromBox: true, sizeNorm: cellSizeStatistics(trainItems) } : {}),
  ...(args["class-input"] === "1" ? { classes: classCount([...trainItems, ...testItems]) } : {}),
  imageScale: FINE,
});
/** Classes 0..largest label class of the items. */
function classCount(items: readonly LoaderItem[]): number {
  return 1 + items.reduce((m, item) => Math.max(m, ...item.labels.map((l) => l.cls)), 0);
}
const branch = new AttributeBranch(
  model,
  {
    lr0: Number(args.lr),
    momentum: hyp.momentum,
    weightDecay: scaledWeightDecay(hyp.weight_decay, BATCH, BATCH),
    minScale: Number(args["min-scale"]),
    clipNorm: Number(args.clip),
    lossHyp: {
      ...SEED_ATTRIBUTE_LOSS,
      cell_size_weight: Number(args["size-weight"]),
      ...(args.balance === "prior" ? { positive_priors: priors } : {}),
      ...(args.softmax === "1" ? { binary_softmax: true } : {}),
    },
  },
  head,
);
const ema = branch.ema;
const STEPS = Number(args.steps);

const t0 = performance.now();
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  let sum = 0;
  let n = 0;
  const lr = attributeStepLr(
    { attr_lr: 1, attr_steps: STEPS },
    Number(args.lr),
    lrFactor(epoch, EPOCHS, hyp.lrf, false),
  );
  for await (const batch of train.epoch(epoch)) {
    try {
      if (STEPS > 1) branch.extraSteps({}, batch, lr, STEPS - 1);
      const r = tidy(() => {
        const l = branch.loss({}, batch);
        l?.loss.backward();
        return l ? l.loss.item() : null;
      });
      if (r !== null) {
        sum += r;
        n++;
      }
      if (n % 100 === 0 && n > 0 && EPOCHS <= 20)
        process.stdout.write(`  batch ${n}: ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      branch.step(lr);
    } finally {
      batch.dispose();
    }
  }
  if (epoch % 10 === 9 || epoch === EPOCHS - 1 || EPOCHS <= 20)
    process.stdout.write(
      `epoch ${epoch + 1}: loss ${(sum / Math.max(1, n)).toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
    );
}
const seconds = (performance.now() - t0) / 1000;

/** The EMA head's attribute table on the ground-truth cells of `loader`'s split. */
async function score(loader: DataLoader) {
  const metrics = new AttributeMetrics();
  for await (const batch of loader.epoch(0)) {
    try {
      noGrad(() =>
        tidy(() => {
          const boxes = targetBoxes(batch.targets);
          const classes = ema.ema.classes > 0 ? batch.targets.select(1, 1) : undefined;
          const pixels = imageTapInput(ema.ema, batch.images, batch.fineImages);
          const logits = attributeLogits(ema.ema, [pixels], boxes, boxSizes(boxes), classes);
          const values = attributeValues(logits).toArray();
          const truth = batch.targets.slice(1, 6, 13).toArray() as number[];
          for (let k = 0; k < truth.length / 7; k++)
            metrics.add(truth.slice(k * 7, k * 7 + 7), (values as number[]).slice(k * 7, k * 7 + 7));
        }),
      );
    } finally {
      batch.dispose();
    }
  }
  return metrics.summary();
}
const trainEval = new DataLoader({ items: trainItems, imgSize: IMGSZ, batchSize: 16, workers: 1, ...fineView() });
const onTrain = await score(trainEval);
process.stdout.write(
  `train split (no augmentation): balanced accuracy ${onTrain.attributes.map((a) => a.balancedAccuracy.toFixed(2)).join(" ")}\n`,
);
await trainEval.dispose();
const summary = await score(test);

const scored = summary.attributes.filter((a) => a.n > 0);
const perAttribute = scored.map(
  (a) => `${a.name} ${a.accuracy.toFixed(3)} / ${presentValuesMacroF1(a.confusion).toFixed(3)}`,
);
const meanOf = (f: (a: (typeof scored)[number]) => number) => scored.reduce((sum, a) => sum + f(a), 0) / scored.length;
process.stdout.write(
  `accuracy / macro F1 per attribute (attributes with known values): ${perAttribute.join("; ")}\n` +
    `mean over them: accuracy ${meanOf((a) => a.accuracy).toFixed(3)}, macro F1 ${meanOf((a) => presentValuesMacroF1(a.confusion)).toFixed(3)}\n`,
);
const minBal = Math.min(...summary.attributes.map((a) => a.balancedAccuracy));
process.stdout.write(
  `\n${args.label} (epochs ${EPOCHS}, lr ${args.lr}, roi ${roi}, fine ${FINE}, balance ${args.balance}, attr-hsv ${hsvFactor}, dropout ${args.dropout}, min-scale ${args["min-scale"]}, steps ${args.steps}, softmax ${args.softmax}, size-weight ${args["size-weight"]}, scale ${augHyp.scale}, input-norm ${args["input-norm"]}, size-box ${args["size-box"]}, class-input ${args["class-input"]}, clip ${args.clip}, batch ${BATCH}): ` +
    `trained in ${seconds.toFixed(0)} s\n${formatAttributeTable(summary)}\nmin balanced accuracy ${minBal.toFixed(3)}\n`,
);
await Promise.all([train.dispose(), test.dispose()]);

/** With `--focus`: the balanced accuracies on the test split's in-focus and defocused films apart. */
async function scoreByFocus(spec: string): Promise<void> {
  const [seed, size, magnification] = spec.split(",").map(Number) as [number, number, number];
  const defocused = (item: LoaderItem) => {
    const index = /synth_(\d+)/.exec(item.image);
    if (!index) throw new Error(`--focus: ${item.image} is not a synthetic film (synth_NNNNNN)`);
    return generateScene(seed, Number(index[1]), size, magnification).stain.blurPasses > 0;
  };
  const parts: [string, LoaderItem[]][] = [
    ["in-focus fields", testItems.filter((i) => !defocused(i))],
    ["defocused fields", testItems.filter(defocused)],
  ];
  for (const [label, items] of parts) {
    const loader = new DataLoader({ items, imgSize: IMGSZ, batchSize: 16, workers: 1 });
    const part = await score(loader);
    await loader.dispose();
    const cells = part.attributes.map((a) => a.n).join(" ");
    const bal = part.attributes.map((a) => a.balancedAccuracy.toFixed(3)).join(" ");
    process.stdout.write(`${label} (${items.length} films, cells ${cells}): balanced accuracy a0..a6 ${bal}\n`);
  }
}
if (args.focus) await scoreByFocus(args.focus);
