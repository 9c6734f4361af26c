/** `sladet check --data X.yaml`: every problem of a dataset with file and line, and a summary per split. */
import { type Command, Option } from "commander";
import { checkDataset } from "../data/check.js";
import { formatCheckReport } from "../data/check-report.js";
import { SPLITS, type Split } from "../data/dataset-yaml.js";
import { withDataErrors } from "./data-errors.js";

export function register(program: Command): void {
  program
    .command("check")
    .description("check a dataset: every problem as file:line: expected …, found …, then a summary per split")
    .requiredOption("--data <yaml>", "dataset YAML")
    .addOption(new Option("--split <split...>", "splits to check (default: all in the YAML)").choices(SPLITS))
    .option("--no-cache", "ignore and do not update the check cache")
    .option("--all-notes", "show every note (by default 10 per kind)")
    .option("--quiet", "no progress display")
    .action(async (opts: { data: string; split?: Split[]; cache: boolean; allNotes?: boolean; quiet?: boolean }) => {
      const report = await withDataErrors(() =>
        checkDataset(opts.data, {
          cache: opts.cache,
          silent: opts.quiet ?? false,
          ...(opts.split ? { splits: opts.split } : {}),
        }),
      );
      process.stdout.write(
        formatCheckReport(report, opts.allNotes ? { maxNotesPerKind: Number.POSITIVE_INFINITY } : {}),
      );
      if (report.errors > 0) process.exitCode = 1;
    });
}
