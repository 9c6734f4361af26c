/**
 * One small trained detector shared by every test file of a test run (design.md §7.8): the README's main job
 * (`runQuickstart`: 64 synthetic fields of view at 128 px, all cells one class, a tiny YOLOv5 trained 100 epochs),
 * trained once and cached in the temp folder under a hash of the compiled sources, so a code change retrains it.
 * Concurrent test processes wait on a lock instead of training twice. Each use marks the fixture as used; training a
 * new one removes those of other source versions unused for STALE_FIXTURE_MS.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HYP_NO_AUGMENTATION } from "../../src/data/augment/hyp.js";
import { collapseToOneClass, generateDataset } from "../../src/data/synth/index.js";
import { QUICKSTART_HYP, QUICKSTART_MODEL, runQuickstart } from "../../src/demo/quickstart.js";
import { builtinModelYaml, type ModelYaml } from "../../src/model/config.js";
import { runValidation } from "../../src/runs/val-run.js";
import { type TrainResult, train } from "../../src/train/trainer.js";
import { REPO_ROOT } from "../helpers.js";

/** The tiny model of the test configuration. */
/**
 * Phase 2 on the tiny fixture (test/train/phase2 and distributed): the fixture is not confident, so a low calibration
 * floor, a lower precision target and no augmentation let it propose pseudo-labels.
 */
export const PHASE2_TEST_HYP = {
  ...QUICKSTART_HYP,
  ...HYP_NO_AUGMENTATION,
  lr0: 0.005,
  pl_precision: 0.5,
  pl_precision_z: 0,
  pl_conf_min: 0.1,
};

export function tinyModelYaml(nc = 1): ModelYaml {
  return { ...builtinModelYaml("n"), ...QUICKSTART_MODEL, nc };
}

/** Writes a synthetic dataset whose cells are all class 0 "cell"; returns its data.yaml. */
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
  return collapseToOneClass(out);
}

/**
 * One epoch of attribute training from the fixture's detector on a 16-image cell dataset written to `work`/data (seed
 * 7), `hyp` over {@link PHASE2_TEST_HYP}; runs go to `work`/runs. For tests of one attribute-head option end to end.
 */
export async function trainAttributeRun(
  work: string,
  hyp: Record<string, number>,
  imgsz: number,
): Promise<{ data: string; run: TrainResult }> {
  const data = await makeCellDataset(join(work, "data"), { images: 16, imgsz, seed: 7 });
  const fixture = await trainedFixture();
  const run = await train({
    data,
    weights: fixture.best,
    epochs: 1,
    imgsz,
    batch: 8,
    workers: 1,
    verbose: false,
    noautoanchor: true,
    hyp: { ...PHASE2_TEST_HYP, ...hyp },
    attributes: true,
    project: join(work, "runs"),
  });
  return { data, run };
}

/** `sladet val` of `weights` on `data`'s val split (its run under `work`/val) describes matched cells. */
export async function assertValidationDescribesCells(
  data: string,
  weights: string,
  work: string,
  imgsz: number,
): Promise<void> {
  const { attributes } = await runValidation({
    data,
    weights,
    task: "val",
    imgsz,
    project: join(work, "val"),
    verbose: false,
  });
  assert.ok(attributes && attributes.attributes[0]!.n > 0, "validation described matched cells");
}

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
  return h.digest("hex").slice(0, 16);
}

export interface TrainedFixture {
  dataYaml: string;
  runDir: string;
  best: string;
  last: string;
  result: Omit<TrainResult, "final">;
}

/** True when the process that took the lock no longer exists (its pid file names it). */
function lockOwnerIsGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, "pid"), "utf8"));
  } catch {
    return false; // being created right now, or an old lock without a pid: wait
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * The fixture's training seed. The 100-epoch tiny training is sensitive to the seed and even to the thread count
 * (summation order): best fitness 0.19 for seed 0 and 0.44 for seed 2 at 2 threads; 0.30 / 0.35 for seeds 1 / 2 at one
 * thread; before issue 23's initialisation fixes 0.35 / 0.001 / 0.40 for seeds 0 / 1 / 2 (stop 28's note). So the
 * tests that need a model which finds cells (detect recall, gallery, crops) pin a seed whose run converges, and the
 * guard below says so plainly when a change makes it stop converging, instead of failing those tests obscurely.
 */
const FIXTURE_SEED = 2;
/** Best fitness (0.1·mAP50 + 0.9·mAP50-95 on val) below which the fixture counts as not trained. */
const MIN_FIXTURE_FITNESS = 0.3;

/** Fixtures of other source versions not used for this long are removed when a new one is trained. */
export const STALE_FIXTURE_MS = 60 * 60 * 1000;
/** The fixtures' folder names: this prefix and the key (a source hash or SLADET_FIXTURE_KEY). */
export const FIXTURE_PREFIX = "sladet-fixture-";

/**
 * Removes the fixture folders in `parent` other than `keep` that no test has used (fixture.json's time) or, when
 * unfinished, touched (the folder's) for `staleMs`, and that no training holds the lock of; returns their paths.
 */
export function pruneStaleFixtures(parent: string, keep: string, staleMs = STALE_FIXTURE_MS): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    const dir = join(parent, name);
    if (!name.startsWith(FIXTURE_PREFIX) || dir === keep || existsSync(join(dir, "lock"))) continue;
    const used = (statSync(join(dir, "fixture.json"), { throwIfNoEntry: false }) ?? statSync(dir)).mtimeMs;
    if (Date.now() - used < staleMs) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

export async function trainedFixture(): Promise<TrainedFixture> {
  // SLADET_FIXTURE_KEY pins the fixture while developing (a rebuild would otherwise retrain it); never set in CI
  const root = join(tmpdir(), `${FIXTURE_PREFIX}${process.env.SLADET_FIXTURE_KEY ?? sourcesHash()}`);
  const done = join(root, "fixture.json");
  const lock = join(root, "lock");
  mkdirSync(root, { recursive: true });
  for (let waited = 0; !existsSync(done); waited += 1) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
    } catch {
      if (lockOwnerIsGone(lock)) {
        rmSync(lock, { recursive: true, force: true }); // a killed test run left it behind
        continue;
      }
      if (waited > 900) throw new Error(`waited 15 minutes for ${lock}; remove it if no test is running`);
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    try {
      rmSync(join(root, "pretrain"), { recursive: true, force: true });
      const { final: _final, data, ...result } = await runQuickstart({ out: root, seed: FIXTURE_SEED, verbose: false });
      if (!(result.bestFitness >= MIN_FIXTURE_FITNESS))
        throw new Error(
          `the shared trained fixture did not converge (best fitness ${result.bestFitness} < ${MIN_FIXTURE_FITNESS}, ` +
            `seed ${FIXTURE_SEED}): training changed; see FIXTURE_SEED in test/helpers/trained-fixture.ts`,
        );
      const fixture: TrainedFixture = {
        dataYaml: data,
        runDir: result.runDir,
        best: result.best,
        last: result.last,
        result,
      };
      writeFileSync(done, JSON.stringify(fixture));
      pruneStaleFixtures(tmpdir(), root);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  const now = new Date();
  utimesSync(done, now, now); // in use: not stale for another STALE_FIXTURE_MS
  return JSON.parse(readFileSync(done, "utf8")) as TrainedFixture;
}
