/**
 * `sladet pretrain`: phase-1 detector training with the seed's flags (pre_train.py / train.py). YOLOv5 flags that
 * sladet does not take are refused by name (src/cli/yolo-flags.ts), never ignored.
 */
import { existsSync } from "node:fs";
import { type Command, Option } from "commander";
import { DEFAULT_DEVICE, DEFAULT_IMG_SIZE } from "../runs/defaults.js";
import { PRETRAIN_DEFAULTS } from "../train/phases.js";
import type { TrainOptions, TrainResult } from "../train/trainer.js";
import { newestRunWeights } from "../util/run-dir.js";
import {
  addDistributedOptions,
  type DistributedFlags,
  distributedRole,
  exitWithLauncher,
  launchWorkers,
} from "./distributed.js";
import { UserError } from "./errors.js";
import { parseImgSize, parseIntOption, parseUnitFloat } from "./options.js";

export interface PretrainFlags extends DistributedFlags {
  data?: string;
  cfg?: string;
  weights?: string;
  hyp?: string;
  epochs: number;
  batchSize: number;
  imgsz: number;
  device: string;
  workers?: number;
  seed: number;
  resume?: string | true;
  project: string;
  name: string;
  existOk: boolean;
  cache?: "ram" | "disk" | true;
  patience: number;
  freeze: number[];
  savePeriod: number;
  noautoanchor: boolean;
  evolveAnchors: boolean;
  cosLr: boolean;
  ignoreRegions: boolean;
  attributes: boolean;
  attrLambda: number;
  attrTaps: string[];
}

/** The most recently written weights/last.safetensors under `project` (YOLOv5's --resume without a path). */
export function latestLast(project: string): string {
  if (!existsSync(project)) throw new UserError(`--resume: no runs under ${project}`);
  const last = newestRunWeights([project], "last");
  if (!last) throw new UserError(`--resume: no weights/last.safetensors under ${project}`);
  return last;
}

/** Options shared by the training commands (pretrain now, train in phase 2). */
export function addTrainingOptions(
  cmd: Command,
  defaults: { project: string; epochs: number; batch: number },
): Command {
  addDistributedOptions(cmd);
  return cmd
    .option("--data <yaml>", "dataset YAML (the seed's WBC_*.yaml work as they are); not needed with --resume")
    .option("--cfg <yaml>", "model description: a YAML or yolov5n/s/m/l/x (default: the architecture in --weights)")
    .option("--weights <file>", "initial weights: sladet checkpoint or YOLOv5 .pt (e.g. yolov5x.pt)")
    .option("--hyp <yaml>", "hyperparameters (default: the seed's hyp.scratch-high with fl_gamma 1.5)")
    .option("--epochs <n>", "training epochs", parseIntOption("--epochs", 1), defaults.epochs)
    .option("--batch-size <n>", "images per batch (alias --batch)", parseIntOption("--batch", 1), defaults.batch)
    .option(
      "--imgsz <px>",
      "input size, a multiple of 32 (aliases --img, --img-size)",
      parseImgSize(32),
      DEFAULT_IMG_SIZE,
    )
    .option("--device <dev>", "cpu, or cuda:N with a CUDA libtorch", DEFAULT_DEVICE)
    .option("--workers <n>", "data-loader worker threads", parseIntOption("--workers", 0))
    .option("--seed <n>", "global seed", parseIntOption("--seed", 0), 0)
    .option("--resume [last]", "continue a run from its weights/last (default: the newest run's)")
    .option("--project <dir>", "parent folder of run folders", defaults.project)
    .option("--name <name>", "run name (runs/<task>/<name>, <name>2, …)", "exp")
    .option("--exist-ok", "reuse the run folder instead of incrementing", false)
    .addOption(new Option("--cache [mode]", "cache decoded images").choices(["ram", "disk"]))
    .option("--patience <n>", "early-stopping patience in epochs (0: off)", parseIntOption("--patience", 0), 100)
    .option(
      "--freeze <n...>",
      "freeze layers: one n = the first n layers, or a list of indices",
      (v: string, prev: number[]) => [...(prev ?? []), parseIntOption("--freeze", 0)(v)],
    )
    .option(
      "--save-period <n>",
      "also save weights/epochN every n epochs (≤ 0: never)",
      parseIntOption("--save-period"),
      -1,
    )
    .option("--noautoanchor", "skip the anchor fit check", false)
    .option("--evolve-anchors", "evolve new anchors when the fit is poor (otherwise only warn)", false)
    .option("--cos-lr", "cosine learning-rate schedule", false)
    .option("--ignore-regions", "treat sparse images as fully labelled (the naive baseline of the ablation)", false)
    .option("--attributes", "also train the attribute head (needs the 7 LLD attribute columns)", false)
    .option(
      "--attr-lambda <x>",
      "weight of the attribute gradient into the backbone (0: detached)",
      parseUnitFloat("--attr-lambda"),
      0,
    )
    .option(
      "--attr-taps <list>",
      "maps the attribute head pools: image and/or detector taps (p2,p3 = the seed's)",
      (v: string) => v.split(",").map((t) => t.trim()),
      ["image"],
    );
}

/**
 * Runs a training command: phase 1 (`sla` null) or phase 2; prints the result or how to resume. `cli` tells which
 * flags the user gave: with --resume, a given --epochs is passed on (and refused when it is not the run's own), the
 * default is not.
 */
export async function runTrainingCommand(
  command: "pretrain" | "train",
  flags: PretrainFlags,
  extra: Pick<TrainOptions, "sla" | "attributes" | "finetune">,
  cli: Command,
): Promise<void> {
  const epochsGiven = cli.getOptionValueSource("epochs") === "cli";
  const role = distributedRole(flags);
  if (role.kind === "launcher") {
    process.exitCode = await launchWorkers(role.plan);
    return;
  }
  if (role.kind === "worker") exitWithLauncher();
  const { asUserErrors } = await import("./user-errors.js");
  const { runTraining } = await import("../runs/train-run.js");
  const result = await asUserErrors(() =>
    runTraining({
      data: flags.data,
      cfg: flags.cfg,
      weights: flags.weights,
      hyp: flags.hyp,
      epochs: flags.resume && !epochsGiven ? undefined : flags.epochs,
      batch: flags.batchSize,
      imgsz: flags.imgsz,
      device: flags.device,
      workers: flags.workers,
      seed: flags.seed,
      resume: flags.resume === true ? latestLast(flags.project) : flags.resume,
      project: flags.project,
      name: flags.name,
      existOk: flags.existOk,
      cache: flags.cache === true ? "ram" : (flags.cache ?? false),
      patience: flags.patience,
      freeze: flags.freeze ?? [],
      savePeriod: flags.savePeriod,
      noautoanchor: flags.noautoanchor,
      evolveAnchors: flags.evolveAnchors,
      cosLr: flags.cosLr,
      ignoreRegions: flags.ignoreRegions,
      attributes: extra.attributes ?? flags.attributes,
      attributeLambda: flags.attrLambda,
      attributeTaps: flags.attrTaps,
      sla: extra.sla ?? null,
      finetune: extra.finetune,
      distributed: role.kind === "worker" ? role.options : null,
    }),
  );
  if (result.interrupted) {
    process.stderr.write(interruptedMessage(command, result, role.kind === "worker" ? role.options.worldSize : 1));
    process.exitCode = 130; // as a shell reports a Ctrl-C: scripts chaining commands stop here
    return;
  }
  if (result.rank !== 0) return;
  process.stdout.write(`best fitness ${result.bestFitness.toFixed(4)}; results in ${result.runDir}\n`);
}

/**
 * What a process stopped by Ctrl-C says: where it stopped (every rank of a data-parallel run names the same batch) and,
 * from rank 0, how to continue: on as many processes, since the rest of the epoch is counted per process.
 */
export function interruptedMessage(
  command: string,
  result: Pick<TrainResult, "rank" | "last" | "stoppedAt">,
  processes: number,
): string {
  const at = result.stoppedAt;
  const where = at ? `after batch ${at.batches} of epoch ${at.epoch + 1}` : "before the first batch";
  if (result.rank !== 0) return `sladet: rank ${result.rank} interrupted ${where}\n`;
  if (!at) return `interrupted ${where}: nothing new saved\n`;
  const nproc = processes > 1 ? ` --nproc ${processes}  (${processes} processes in all, as it ran)` : "";
  return `interrupted ${where}: continue with  sladet ${command} --resume ${result.last}${nproc}\n`;
}

export function register(program: Command): void {
  const cmd = program
    .command("pretrain")
    .description("phase 1: train the detector (region-masked loss on sparse labels), validating every epoch");
  addTrainingOptions(cmd, PRETRAIN_DEFAULTS).action((flags: PretrainFlags, command: Command) =>
    runTrainingCommand("pretrain", flags, {}, command),
  );
}
