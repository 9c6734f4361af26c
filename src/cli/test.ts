/**
 * `sladet test` (the seed's test.py): detection metrics and the attribute table on the test split, with
 * attributes/test.csv, into a new run folder under runs/test. `--weights` takes a checkpoint, a run folder (its
 * weights/best) or nothing (the newest run's weights/best under runs/train and runs/pretrain; design.md §7.7).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { newestRunWeights } from "../train/run-dir.js";
import { UserError } from "./errors.js";
import { addValidationOptions, runValidationCommand, type ValFlags } from "./val.js";

/** Where `sladet test` looks for runs when --weights is not given. */
export const TEST_DEFAULT_PROJECTS = ["runs/train", "runs/pretrain"] as const;

/** The weights file `sladet test` evaluates. */
export function resolveTestWeights(weights: string | undefined): string {
  if (weights === undefined) {
    const newest = newestRunWeights(TEST_DEFAULT_PROJECTS, "best");
    if (!newest) {
      throw new UserError(
        `test: no --weights given and no weights/best.safetensors under ${TEST_DEFAULT_PROJECTS.join(" or ")}`,
      );
    }
    return newest;
  }
  if (existsSync(weights) && statSync(weights).isDirectory()) {
    const best = join(weights, "weights", "best.safetensors");
    if (!existsSync(best)) throw new UserError(`test: ${weights} is a folder without weights/best.safetensors`);
    return best;
  }
  return weights;
}

export function register(program: Command): void {
  const cmd = program
    .command("test")
    .description("evaluate weights on the test split: detection and attribute tables, attributes/test.csv")
    .option(
      "--weights <file|run>",
      "checkpoint, .pt, or run folder (its weights/best); default: the newest run's weights/best",
    );
  addValidationOptions(cmd, { project: "runs/test", task: "test" }).action(
    async (flags: ValFlags & { weights?: string }) => {
      const weights = resolveTestWeights(flags.weights);
      process.stdout.write(`test: ${weights}\n`);
      await runValidationCommand(flags, weights);
    },
  );
}
