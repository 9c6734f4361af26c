/**
 * One small trained detector shared by every test file of a test run (design.md §7.8): a synthetic dataset (64
 * fields of view at 128 px, every cell labelled as one class "cell"), a tiny YOLOv5 (width 0.125, depth 0.33),
 * trained once with `train()` and cached in the temp folder under a hash of the compiled sources, so a code change
 * retrains it. Concurrent test processes wait on a lock instead of training twice.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateDataset } from "../../src/data/synth/index.js";
import { builtinModelYaml, type ModelYaml } from "../../src/model/config.js";
import { type TrainOptions, type TrainResult, train } from "../../src/train/trainer.js";
import { REPO_ROOT } from "../helpers.js";

/** The tiny model of the test configuration. */
export function tinyModelYaml(nc = 1): ModelYaml {
  return { ...builtinModelYaml("n"), width_multiple: 0.125, depth_multiple: 0.33, nc };
}

/** Writes a synthetic dataset whose cells are all class 0 "cell" (detection without classification). */
export async function makeCellDataset(
  out: string,
  options: { images: number; imgsz: number; seed?: number; sparse?: number },
): Promise<string> {
  await generateDataset({
    out,
    images: options.images,
    seed: options.seed ?? 1,
    imageSize: options.imgsz,
    split: [0.75, 0.25, 0],
    onImage: () => {},
    ...(options.sparse === undefined ? {} : { sparseArea: options.sparse }),
  });
  for (const split of ["train", "val"]) {
    const dir = join(out, "labels", split);
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".txt"))) {
      const p = join(dir, f);
      const lines = readFileSync(p, "utf8").split("\n");
      writeFileSync(p, lines.map((l) => (l.trim() ? l.replace(/^\d+/, "0") : l)).join("\n"));
    }
  }
  const yamlPath = join(out, "data.yaml");
  const yaml = readFileSync(yamlPath, "utf8");
  writeFileSync(
    yamlPath,
    yaml.replace(/\nnames:[\s\S]*?(?=\n[a-z_]+:)/, '\nnames: ["cell"]').replace(/\nnc: \d+/, "\nnc: 1"),
  );
  return yamlPath;
}

/** Training options of the fixture (stock focal-free loss and a higher lr so it learns in about a minute). */
export const FIXTURE_TRAIN: Omit<TrainOptions, "data" | "project"> = {
  cfg: tinyModelYaml(1),
  epochs: 100,
  batch: 8,
  imgsz: 128,
  workers: 1,
  seed: 0,
  name: "fixture",
  nominalBatch: 8,
  minWarmupIters: 20,
  verbose: false,
  hyp: { lr0: 0.02, warmup_epochs: 0, fl_gamma: 0, mosaic: 0, mixup: 0 },
};

function sourcesHash(): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".js")) h.update(name).update(readFileSync(p));
    }
  };
  walk(join(REPO_ROOT, "dist", "src"));
  h.update(JSON.stringify(FIXTURE_TRAIN));
  return h.digest("hex").slice(0, 16);
}

export interface TrainedFixture {
  dataYaml: string;
  runDir: string;
  best: string;
  last: string;
  result: Omit<TrainResult, "final">;
}

export async function trainedFixture(): Promise<TrainedFixture> {
  const root = join(tmpdir(), `sladet-fixture-${sourcesHash()}`);
  const done = join(root, "fixture.json");
  const lock = join(root, "lock");
  mkdirSync(root, { recursive: true });
  for (let waited = 0; !existsSync(done); waited += 1) {
    try {
      mkdirSync(lock);
    } catch {
      if (waited > 900) throw new Error(`waited 15 minutes for ${lock}; remove it if no test is running`);
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    try {
      const dataYaml = await makeCellDataset(join(root, "data"), { images: 64, imgsz: 128 });
      const project = join(root, "runs");
      rmSync(project, { recursive: true, force: true });
      const { final: _final, ...result } = await train({ ...FIXTURE_TRAIN, data: dataYaml, project });
      const fixture: TrainedFixture = { dataYaml, runDir: result.runDir, best: result.best, last: result.last, result };
      writeFileSync(done, JSON.stringify(fixture));
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return JSON.parse(readFileSync(done, "utf8")) as TrainedFixture;
}
