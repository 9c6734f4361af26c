/**
 * `sladet train`: phase 2 (the seed's train.py) — the region-masked loss plus pseudo-labels and the similarity loss,
 * starting from phase 1's weights (`--weights` is required: the seed README's commands lose it to a missing `\`, and
 * phase 2 from scratch is never what was meant). The attribute head trains when the dataset has the attribute
 * columns, continuing the head of the weights when they carry one.
 */
import { type Command, Option } from "commander";
import { TRAIN_DEFAULTS } from "../train/phases.js";
import {
  DEFAULT_SLA_OPTIONS,
  PROPOSERS,
  SEED_SLA_OPTIONS,
  type SlaOptions,
  TRIPLET_SIGNS,
} from "../train/sla/options.js";
import { runFolderWeights } from "../util/run-dir.js";
import { UserError } from "./errors.js";
import { addTrainingOptions, type PretrainFlags, runTrainingCommand } from "./pretrain.js";

interface TrainFlags extends PretrainFlags {
  plProposer: SlaOptions["proposer"];
  tripletSign: SlaOptions["tripletSign"];
  plInRegion: boolean;
  seedSla: boolean;
  finetune: boolean;
}

/** The phase-2 behaviour the flags ask for (`--seed-sla` = every seed behaviour at once). */
export function slaOptionsOf(
  flags: Pick<TrainFlags, "plProposer" | "tripletSign" | "plInRegion" | "seedSla">,
): SlaOptions {
  if (flags.seedSla) return { ...SEED_SLA_OPTIONS };
  return { proposer: flags.plProposer, tripletSign: flags.tripletSign, plInRegion: flags.plInRegion };
}

export function register(program: Command): void {
  const cmd = program
    .command("train")
    .description(
      "phase 2 (SLA): region-masked loss + pseudo-labels outside the labelled regions + similarity loss, from phase-1 weights",
    );
  addTrainingOptions(cmd, TRAIN_DEFAULTS)
    .addOption(
      new Option("--pl-proposer <model>", "detector whose predictions become pseudo-labels (seed: student)")
        .choices(PROPOSERS)
        .default(DEFAULT_SLA_OPTIONS.proposer),
    )
    .addOption(
      new Option("--triplet-sign <sign>", "similarity triplet: conventional, or the seed's inverted one")
        .choices(TRIPLET_SIGNS)
        .default(DEFAULT_SLA_OPTIONS.tripletSign),
    )
    .option("--pl-in-region", "also take pseudo-labels inside labelled regions (the seed's behaviour)", false)
    .option(
      "--seed-sla",
      "the seed's phase 2 exactly: student proposer, seed triplet sign, pseudo-labels in regions, no fine-tune schedule",
      false,
    )
    .option(
      "--no-finetune",
      "YOLOv5's fresh-run schedule instead of a fine-tune: EMA restarted at 0 updates, ≥ 100 warmup iterations from warmup_bias_lr (the seed's; --seed-sla implies it)",
    )
    .option("--no-attributes", "do not train the attribute head (default: trained when the data has attribute columns)")
    .action((flags: TrainFlags, command: Command) => {
      if (!flags.weights && !flags.resume) {
        throw new UserError(
          "sladet train needs --weights (phase-1 weights: a checkpoint or a run folder such as runs/pretrain/exp) or --resume",
        );
      }
      if (flags.weights) {
        const file = runFolderWeights(flags.weights, "last");
        if (!file) throw new UserError(`train: ${flags.weights} is a folder without weights/last.safetensors`);
        flags.weights = file; // a phase-1 run folder: its last weights, as the seed README's phase 2 starts from last.pt
      }
      return runTrainingCommand(
        "train",
        flags,
        {
          sla: slaOptionsOf(flags),
          finetune: flags.seedSla ? false : flags.finetune,
          attributes: command.getOptionValueSource("attributes") === "default" ? "auto" : flags.attributes,
        },
        command,
      );
    });
}
