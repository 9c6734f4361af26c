/**
 * `sladet test` (the seed's test.py): detection metrics and the attribute table on the test split, with
 * attributes/test.csv, into a new run folder under runs/test. `--weights` takes a checkpoint, a run folder (its
 * weights/best) or nothing (the newest run's weights/best under runs/train and runs/pretrain; design.md §7.7). With a
 * YOLOv5 .pt, the seed's head is read from Attribute_model/last_weights.pth as test.py does, unless --attr-weights.
 */
import type { Command } from "commander";
import { TEST_PROJECT } from "../runs/defaults.js";
import { newestRunWeights, runFolderWeights } from "../util/run-dir.js";
import { UserError } from "./errors.js";
import { addValidationOptions, runValidationCommand, type ValFlags } from "./val.js";

/** Where `sladet test` looks for runs when --weights is not given. */
export const TEST_DEFAULT_PROJECTS = ["runs/train", "runs/pretrain"] as const;

/**
 * The weights file `sladet test` (or `command`) uses: a file as given, a run folder's weights/best, or with no
 * --weights the newest run's weights/best.
 */
export function resolveTestWeights(weights: string | undefined, command = "test"): string {
  if (weights === undefined) {
    const newest = newestRunWeights(TEST_DEFAULT_PROJECTS, "best");
    if (!newest) {
      throw new UserError(
        `${command}: no --weights given and no weights/best.safetensors under ${TEST_DEFAULT_PROJECTS.join(" or ")}`,
      );
    }
    return newest;
  }
  const file = runFolderWeights(weights, "best");
  if (!file) throw new UserError(`${command}: ${weights} is a folder without weights/best.safetensors`);
  return file;
}

export function register(program: Command): void {
  const cmd = program
    .command("test")
    .description("evaluate weights on the test split: detection and attribute tables, attributes/test.csv")
    .option(
      "--weights <file|run>",
      "checkpoint, .pt, or run folder (its weights/best); default: the newest run's weights/best",
    );
  addValidationOptions(cmd, { project: TEST_PROJECT, task: "test" }).action(
    async (flags: ValFlags & { weights?: string }) => {
      const weights = resolveTestWeights(flags.weights);
      const { seedAttributeWeights } = await import("../io/seed-head-path.js");
      const attrWeights = seedAttributeWeights(weights, flags.attrWeights);
      process.stdout.write(`test: ${weights}${attrWeights ? ` with the attribute head ${attrWeights}` : ""}\n`);
      await runValidationCommand({ ...flags, ...(attrWeights ? { attrWeights } : {}) }, weights);
    },
  );
}
