/**
 * Which maps the attribute head should pool (the measurement behind ATTRIBUTE_TAPS): the quickstart's tiny YOLOv5
 * and hyperparameters (width 0.125, depth 0.33; no focal loss, no mosaic, lr0 0.02, batch 8 = nominal batch) trained
 * 40 epochs with the attribute head on 72 synthetic fields of view at 256 px (one class "cell"), for each choice of
 * taps; the last weights are evaluated on the 24 held-out images. The attribute-learning test runs the first setting.
 *   bin/sladet-node dist/bench/attributes/taps.js [taps…=image image,p2,p3 p2,p3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { collapseToOneClass, generateDataset } from "../../src/data/synth/index.js";
import { QUICKSTART_HYP, QUICKSTART_MODEL } from "../../src/demo/quickstart.js";
import { formatAttributeTable } from "../../src/eval/attribute-metrics.js";
import { builtinModelYaml } from "../../src/model/config.js";
import { runValidation } from "../../src/runs/val-run.js";
import { train } from "../../src/train/trainer.js";

const choices = process.argv.length > 2 ? process.argv.slice(2) : ["image", "image,p2,p3", "p2,p3"];
const IMGSZ = 256;
const root = mkdtempSync(join(tmpdir(), "sladet-bench-taps-"));
try {
  process.stdout.write(`cpu: ${cpus()[0]?.model ?? "?"}; threads ${process.env["SLADET_THREADS"] ?? cpus().length}\n`);
  await generateDataset({ out: join(root, "data"), images: 96, seed: 1, imageSize: IMGSZ, split: [0.75, 0.25, 0] });
  const data = collapseToOneClass(join(root, "data"));
  for (const taps of choices) {
    const t0 = performance.now();
    const run = await train({
      data,
      cfg: { ...builtinModelYaml("n"), ...QUICKSTART_MODEL, nc: 1 },
      epochs: 40,
      batch: 8,
      imgsz: IMGSZ,
      seed: 0,
      workers: 1,
      project: join(root, "runs"),
      name: taps.replaceAll(",", "-"),
      nominalBatch: 8,
      minWarmupIters: 20,
      hyp: QUICKSTART_HYP,
      attributes: true,
      attributeTaps: taps.split(","),
      verbose: false,
    });
    const seconds = (performance.now() - t0) / 1000;
    const { attributes, result } = await runValidation({
      data,
      weights: run.last,
      imgsz: IMGSZ,
      project: join(root, "val"),
      verbose: false,
    });
    const beaten = attributes!.attributes.filter((a) => a.balancedAccuracy >= 1 / a.values.length + 0.1);
    process.stdout.write(
      `\ntaps ${taps}: trained in ${seconds.toFixed(0)} s; mAP50 ${result.all.map50.toFixed(3)}; ` +
        `${beaten.length} of 7 beat the majority baseline's balanced accuracy by 0.10\n${formatAttributeTable(attributes!)}\n`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
