/**
 * `sladet convert --from voc|coco|lld|wbcatt --to lld|coco --src … --out …`, with a report of what was dropped and
 * why.
 */
import { type Command, Option } from "commander";
import {
  CONVERT_SOURCES,
  CONVERT_TARGETS,
  type ConvertSource,
  type ConvertTarget,
  convertDataset,
} from "../data/convert.js";
import { formatProblem } from "../data/problems.js";
import { withDataErrors } from "./data-errors.js";

interface ConvertFlags {
  from: ConvertSource;
  to: ConvertTarget;
  src: string;
  out: string;
  names?: string;
  images?: string;
  link?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("convert")
    .description(
      "convert a dataset between Pascal VOC, COCO JSON and LLD-YOLO labels, or WBCAtt's attribute CSVs with the PBC " +
        "crops they annotate into LLD (one cell per crop, box found by stain colour: docs/wbcatt.md)",
    )
    .addOption(new Option("--from <format>", "source format").choices(CONVERT_SOURCES).makeOptionMandatory())
    .addOption(new Option("--to <format>", "target format").choices(CONVERT_TARGETS).makeOptionMandatory())
    .requiredOption(
      "--src <path>",
      "VOC folder, COCO folder (Annotations/, Images/) or JSON file, LLD data YAML, or the folder of WBCAtt's " +
        "pbc_attr_v1_{train,val,test}.csv",
    )
    .requiredOption("--out <dir>", "output folder")
    .option("--names <list>", "comma-separated class names in id order (VOC; default: order of first appearance)")
    .option(
      "--images <dir>",
      "image folder of a single COCO JSON file (default: the JSON's folder); WBCAtt: the folder holding " +
        "PBC_dataset_normal_DIB/ (required)",
    )
    .option("--link", "symlink images instead of copying them")
    .option("--quiet", "no progress display")
    .action(async (opts: ConvertFlags) => {
      const report = await withDataErrors(() =>
        convertDataset({
          from: opts.from,
          to: opts.to,
          source: opts.src,
          out: opts.out,
          images: opts.link ? "symlink" : "copy",
          silent: opts.quiet ?? false,
          ...(opts.names ? { classNames: opts.names.split(",").map((s) => s.trim()) } : {}),
          ...(opts.images ? { cocoImages: opts.images, wbcattImages: opts.images } : {}),
        }),
      );
      const out = process.stdout;
      if (report.problems.length > 0) {
        out.write(`dropped or changed (${report.problems.length}):\n`);
        for (const p of report.problems) out.write(`${formatProblem(p)}\n`);
        const byKind = new Map<string, number>();
        for (const p of report.problems) byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + 1);
        out.write(`by reason: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(", ")}\n\n`);
      }
      for (const [split, c] of Object.entries(report.counts)) {
        const total = c.instances.reduce((a, b) => a + b, 0);
        const perClass = report.classNames.map((n, i) => `${n} ${c.instances[i] ?? 0}`).join(", ");
        out.write(`${split}: ${c.images} images, ${total} instances (${perClass})\n`);
      }
      if (report.boxFallbacks) {
        const { "no-stain": none, "implausible-box": small, "background-stained": all } = report.boxFallbacks;
        const total = none + small + all;
        out.write(
          `central fallback boxes: ${total} (no stain found ${none}, stain region too small ${small}, ` +
            `whole crop stained ${all})\n`,
        );
      }
      out.write(`wrote ${report.written.join(", ")}\n`);
    });
}
