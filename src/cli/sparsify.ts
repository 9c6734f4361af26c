/** `sladet sparsify --data X.yaml --area 0.2 --seed S --out DIR`: a sparsely labelled copy of a dense dataset. */
import { type Command, InvalidArgumentError } from "commander";
import { sparsifyDataset } from "../data/sparsify.js";
import { withDataErrors } from "./data-errors.js";
import { parseIntOption } from "./options.js";

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, found ${value}`);
  return n;
}

export function register(program: Command): void {
  program
    .command("sparsify")
    .description("keep one random labelled region per train/val image (boxes with their centre inside); test unchanged")
    .requiredOption("--data <yaml>", "dataset YAML of a fully labelled dataset")
    .requiredOption("--out <dir>", "output folder (LLD layout with data.yaml)")
    .option("--area <fraction>", "labelled fraction of each image, in (0, 1]", parseNumber, 0.2)
    .option("--seed <n>", "random seed (same seed, same regions)", parseIntOption("--seed", 0), 0)
    .option("--link", "symlink images instead of copying them")
    .option("--force", "go on despite check errors (invalid lines dropped)")
    .option("--quiet", "no progress display")
    .action(
      async (opts: {
        data: string;
        out: string;
        area: number;
        seed: number;
        link?: boolean;
        force?: boolean;
        quiet?: boolean;
      }) => {
        const report = await withDataErrors(() =>
          sparsifyDataset(opts.data, {
            out: opts.out,
            area: opts.area,
            seed: opts.seed,
            images: opts.link ? "symlink" : "copy",
            force: opts.force ?? false,
            silent: opts.quiet ?? false,
          }),
        );
        for (const [split, s] of Object.entries(report.splits)) {
          process.stdout.write(
            `${split}: ${s.images} images, kept ${s.instancesKept}/${s.instancesBefore} instances, ` +
              `mean labelled area ${s.meanArea.toFixed(3)}\n`,
          );
        }
        process.stdout.write(`wrote ${report.yaml}\n`);
      },
    );
}
