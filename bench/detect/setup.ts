/**
 * Inputs of bench/detect, made once per option set (bench/detect/run.ts caches them in a temp folder): a folder of
 * synthetic 640×640 fields of view (or a given folder), and per YOLOv5 scale a seeded random detector for the 14 LLD
 * classes with an attribute head on the `image` tap (sladet's default head), saved as a sladet checkpoint (which the
 * PyTorch child reads as it is: a safetensors file) and exported to ONNX with dynamic axes.
 *
 * Random weights: with the default init (BatchNorm statistics 0 and 1) the activations shrink layer after layer
 * (RMS 1e-6 at the neck) and the detector's output is its biases, the same for every image. So the BatchNorm
 * statistics are first set from a batch of the images (one train-mode forward with momentum 1, like a data-driven
 * init), which keeps the activations at unit scale: the outputs then depend on the image. Then, so that every engine
 * draws and describes a realistic number of cells per image, the confidence threshold is calibrated on the libtorch
 * forward: the median over the images of the CANDIDATES-th highest confidence (objectness × best class score), so a
 * typical image enters NMS with about that many boxes; --max-det caps what survives at MAX_DET. Writes
 * `settings.json` last (its presence = inputs complete).
 *
 *   bin/sladet-node dist/bench/detect/setup.js OUT MODELS IMAGES IMGSZ [SOURCE]
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LLD_CLASS_NAMES } from "../../src/data/schema.js";
import { generateDataset } from "../../src/data/synth/dataset.js";
import { type DecodedImage, decodeImage, letterboxBatch, listSources } from "../../src/infer/sources.js";
import { newAttributeHead } from "../../src/model/attribute-inference.js";
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import { builtinModelYaml, YoloModel, type Yolov5Scale } from "../../src/model/index.js";
import { runOnnxExport } from "../../src/runs/export-run.js";
import { BatchNorm2d, cat, inferenceMode, manualSeed, noGrad, tensor, tidy } from "../../src/torch/index.js";

/** Boxes a typical image sends into NMS (a trained detector at --conf-thres 0.25 on a dense film: a few hundred). */
const CANDIDATES = 300;
/** Cells drawn and described per image. */
export const MAX_DET = 30;
export const IOU_THRES = 0.45;
const NC = LLD_CLASS_NAMES.length;
/** Images the children process once before timing (warm-up), listed in warmup.txt. */
const WARMUP_IMAGES = 2;
/** Images of the batch that sets the BatchNorm statistics. */
const BN_IMAGES = 8;

export interface DetectBenchSettings {
  source: string;
  warmup: string;
  imgsz: number;
  images: number;
  confThres: number;
  iouThres: number;
  maxDet: number;
  /** Per scale: the sladet checkpoint and its ONNX export. */
  weights: Record<string, { checkpoint: string; onnx: string }>;
}

/** Confidence (objectness × best class score) of every row of a decoded output [1, N, 5 + nc], descending. */
function confidences(decoded: Float32Array, no: number): Float32Array {
  const n = decoded.length / no;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 5; c < no; c++) best = Math.max(best, decoded[i * no + c]!);
    out[i] = best * decoded[i * no + 4]!;
  }
  return out.sort().reverse();
}

/** BatchNorm running statistics = those of one batch of the images (train-mode forward, momentum 1). */
async function setBatchNormStatistics(model: YoloModel, images: DecodedImage[], imgsz: number): Promise<void> {
  const inputs = await Promise.all(
    images.map(async (d) => (await letterboxBatch([d], { imgsz, stride: Math.max(...model.stride) })).batch),
  );
  const norms = model
    .namedModules()
    .map(([, m]) => m)
    .filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  const momentum = norms.map((m) => m.momentum);
  for (const m of norms) m.momentum = 1;
  model.train();
  noGrad(() =>
    tidy(() => {
      model.forward(cat(inputs.map((b) => tensor(b.data, [...b.shape]))));
    }),
  );
  norms.forEach((m, i) => {
    m.momentum = momentum[i]!;
  });
}

async function main(): Promise<void> {
  const [out, models, images, imgszArg, sourceArg] = process.argv.slice(2) as [string, string, string, string, string?];
  const imgsz = Number(imgszArg);
  mkdirSync(out, { recursive: true });
  let source = sourceArg ? resolve(sourceArg) : join(out, "data", "images", "train");
  if (!sourceArg && !existsSync(source)) {
    await generateDataset({
      out: join(out, "data"),
      images: Number(images),
      imageSize: imgsz,
      seed: 0,
      split: [1, 0, 0],
      clean: true,
      onImage: () => {},
    });
  }
  const files = (await listSources(source)).images;
  if (sourceArg && files.length > Number(images)) {
    // the first IMAGES images of a real folder, as a list
    source = join(out, "images.txt");
    writeFileSync(source, `${files.slice(0, Number(images)).join("\n")}\n`);
    files.length = Number(images);
  }
  const warmup = join(out, "warmup.txt");
  writeFileSync(warmup, `${files.slice(0, WARMUP_IMAGES).join("\n")}\n`);
  const decoded = await Promise.all(files.map((f) => decodeImage(f)));

  const weights: DetectBenchSettings["weights"] = {};
  const thresholds: number[] = [];
  for (const scale of models.split(",")) {
    manualSeed(0);
    const model = new YoloModel(builtinModelYaml(scale as Yolov5Scale, NC), { names: LLD_CLASS_NAMES });
    await setBatchNormStatistics(model, decoded.slice(0, BN_IMAGES), imgsz);
    model.eval();
    const head = newAttributeHead(model).eval();
    const checkpoint = join(out, `yolov5${scale}.safetensors`);
    saveCheckpoint(checkpoint, model, { attributeHead: head });
    const onnx = join(out, `yolov5${scale}.onnx`);
    await runOnnxExport({
      weights: checkpoint,
      attrWeights: null,
      out: onnx,
      imgsz: [imgsz],
      dynamic: true,
      batch: 1,
      include: "auto",
    });
    weights[scale] = { checkpoint, onnx };
    // calibration on the first scale's forward (every scale then runs at the same threshold)
    if (thresholds.length === 0) {
      for (const d of decoded) {
        const { batch } = await letterboxBatch([d], { imgsz, stride: Math.max(...model.stride) });
        const conf = inferenceMode(() =>
          tidy(() => {
            const y = model.forward(tensor(batch.data, [...batch.shape]), { decode: true }).decoded!;
            return confidences(y.toTypedArray<"float32">(), NC + 5);
          }),
        );
        thresholds.push(conf[CANDIDATES - 1]!);
      }
    }
    model.dispose();
    head.dispose();
  }
  thresholds.sort((a, b) => a - b);
  const confThres = Number(thresholds[Math.floor(thresholds.length / 2)]!.toPrecision(3));
  const settings: DetectBenchSettings = {
    source,
    warmup,
    imgsz,
    images: files.length,
    confThres,
    iouThres: IOU_THRES,
    maxDet: MAX_DET,
    weights,
  };
  writeFileSync(join(out, "settings.json"), `${JSON.stringify(settings, null, 1)}\n`);
  console.log(
    `setup: ${files.length} images in ${source}; conf-thres ${confThres} (${CANDIDATES} candidates in the median image; ` +
      `range of the ${CANDIDATES}th confidence ${thresholds[0]!.toPrecision(3)}…${thresholds.at(-1)!.toPrecision(3)}); ` +
      `${readdirSync(out).length} files in ${out}`,
  );
}

await main();
