/** `sladet export --weights X.pt [--attr-weights Y.pth] --format safetensors [--out Z]`: convert a PyTorch checkpoint. */
import { type Command, Option } from "commander";
import { UserError } from "./errors.js";

/** Formats `export` can write (ONNX comes with the exporter). */
export const EXPORT_FORMATS = ["safetensors"] as const;

interface ExportFlags {
  weights: string;
  attrWeights?: string;
  format: (typeof EXPORT_FORMATS)[number];
  out?: string;
}

export function register(program: Command): void {
  program
    .command("export")
    .description("convert a YOLOv5 .pt checkpoint (and the seed's attribute head) to a sladet checkpoint")
    .requiredOption("--weights <file>", "YOLOv5 checkpoint (.pt); the EMA weights are used when present")
    .option("--attr-weights <file>", "the seed's attribute head (Attribute_model/last_weights.pth)")
    .addOption(new Option("--format <format>", "output format").choices(EXPORT_FORMATS).default("safetensors"))
    .option("--out <file>", "output file (default: the weights' name with .safetensors)")
    .action(async (opts: ExportFlags) => {
      // loaded on use: the other commands must run without the native addon
      const { exportPtCheckpoint } = await import("../io/pt-export.js");
      const { describeSeedAttributeReport } = await import("../io/seed-attributes.js");
      const known = [
        (await import("../io/torch-archive.js")).CheckpointError,
        (await import("../io/pickle.js")).PickleError,
        (await import("../io/zip.js")).ZipError,
        (await import("../model/config.js")).ModelConfigError,
        (await import("../model/checkpoint.js")).SladetCheckpointError,
      ];
      let report: ReturnType<typeof exportPtCheckpoint>;
      try {
        report = exportPtCheckpoint({
          weights: opts.weights,
          attrWeights: opts.attrWeights ?? null,
          out: opts.out ?? null,
        });
      } catch (err) {
        if (known.some((E) => err instanceof E)) throw new UserError((err as Error).message);
        throw err;
      }
      process.stdout.write(
        `${opts.weights}: ${report.weightsFrom} weights, nc ${report.nc}, strides ${report.stride.join("/")}, ` +
          `${report.parameters.toLocaleString("en-US")} parameters${report.epoch === null ? "" : `, epoch ${report.epoch}`}\n`,
      );
      if (report.attributes) process.stdout.write(`${describeSeedAttributeReport(report.attributes)}\n`);
      process.stdout.write(`wrote ${report.out}\n`);
    });
}
