/**
 * `sladet demo --quick` and the test suite's shared fixture: generate a small dense synthetic blood-film dataset,
 * train a tiny YOLOv5 on it with the phase-1 trainer, and validate it, in about a minute on 2 CPU cores. The README's
 * main job, phase 2 and detection included, is src/demo/main-job.ts.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { collapseToOneClass, generateDataset } from "../data/synth/index.js";
import { builtinModelYaml } from "../model/config.js";
import { runTraining, type TrainingRunResult } from "../runs/train-run.js";

export interface QuickstartOptions {
  /** Output folder (the dataset goes to <out>/data, runs to <out>/pretrain). @default "runs/demo" */
  out?: string;
  /** @default 64 */
  images?: number;
  /** @default 128 */
  imgsz?: number;
  /** @default 100 */
  epochs?: number;
  /** Seed of the synthetic dataset. @default 1 */
  dataSeed?: number;
  /** Seed of training. @default 0 */
  seed?: number;
  /** Progress bars and tables. @default true */
  verbose?: boolean;
}

/**
 * The tiny model (design.md §7.8) and the settings that make it learn in about a minute: no focal loss (γ 1.5 slows
 * objectness learning ~10× at this size), a higher lr, no warmup, no mosaic. The test suite trains this same run once
 * as its shared fixture (test/helpers/trained-fixture.ts).
 */
export const QUICKSTART_MODEL = { width_multiple: 0.125, depth_multiple: 0.33 } as const;
export const QUICKSTART_HYP = { lr0: 0.02, warmup_epochs: 0, fl_gamma: 0, mosaic: 0, mixup: 0 } as const;

export async function runQuickstart(options: QuickstartOptions = {}): Promise<TrainingRunResult & { data: string }> {
  const { out = "runs/demo", images = 64, imgsz = 128, epochs = 100, dataSeed = 1, seed = 0, verbose = true } = options;
  const dataRoot = join(out, "data");
  rmSync(dataRoot, { recursive: true, force: true });
  if (verbose) process.stdout.write(`generating ${images} synthetic fields of view (${imgsz} px) in ${dataRoot}\n`);
  await generateDataset({
    out: dataRoot,
    images,
    seed: dataSeed,
    imageSize: imgsz,
    split: [0.75, 0.25, 0],
    onImage: () => {},
  });
  const data = collapseToOneClass(dataRoot);
  const result = await runTraining({
    data,
    cfg: { ...builtinModelYaml("n"), ...QUICKSTART_MODEL },
    epochs,
    batch: 8,
    imgsz,
    seed,
    workers: 1,
    project: join(out, "pretrain"),
    name: "tiny",
    nominalBatch: 8,
    minWarmupIters: 20,
    hyp: QUICKSTART_HYP,
    verbose,
  });
  return { ...result, data };
}
