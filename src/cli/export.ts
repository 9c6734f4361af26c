/**
 * `sladet export`: a YOLOv5 .pt (with the seed's attribute head) to a sladet checkpoint (`--format safetensors`), or
 * sladet weights to ONNX (`--format onnx`: the detector graph and the attribute head's, checked in onnxruntime).
 */
import { type Command, Option } from "commander";
import { DEFAULT_IMG_SIZE, ONNX_EXPORT_BATCH_SIZE } from "../runs/defaults.js";
import { parseImgSize, parseIntOption } from "./options.js";

/** Formats `export` writes. */
export const EXPORT_FORMATS = ["safetensors", "onnx"] as const;
/** What `--include` may add to an ONNX export. */
export const ONNX_INCLUDES = ["auto", "attributes", "none"] as const;

interface ExportFlags {
  weights: string;
  attrWeights?: string;
  format: (typeof EXPORT_FORMATS)[number];
  out?: string;
  imgsz: number[];
  dynamic?: boolean;
  batchSize: number;
  opset?: number;
  include: (typeof ONNX_INCLUDES)[number];
}

export function register(program: Command): void {
  program
    .command("export")
    .description(
      "convert weights: a YOLOv5 .pt (and the seed's attribute head) to a sladet checkpoint, or sladet weights to ONNX",
    )
    .requiredOption(
      "--weights <file|run>",
      "YOLOv5 .pt (safetensors); sladet checkpoint, .pt or run folder (its weights/best) (onnx)",
    )
    .option("--attr-weights <file>", "the seed's attribute head (Attribute_model/last_weights.pth)")
    .addOption(new Option("--format <format>", "output format").choices(EXPORT_FORMATS).default("safetensors"))
    .option("--out <file>", "output file (default: the weights' name with .safetensors or .onnx)")
    .option(
      "--imgsz <size...>",
      "onnx: input size, one number (square) or height width; multiples of the stride",
      (v: string, prev: number[] | undefined) => [...(prev ?? []), parseImgSize(32)(v)],
    )
    .option("--dynamic", "onnx: dynamic batch, height and width")
    .option(
      "--batch-size <n>",
      "onnx: batch size of a static export",
      parseIntOption("--batch-size", 1),
      ONNX_EXPORT_BATCH_SIZE,
    )
    .option("--opset <n>", "onnx: ONNX opset (16 or 17; default 17)", parseIntOption("--opset", 1))
    .addOption(
      new Option("--include <part>", "onnx: the attribute head (auto = when the weights have one)")
        .choices(ONNX_INCLUDES)
        .default("auto"),
    )
    .action(async (opts: ExportFlags) => {
      if (opts.format === "onnx") await exportOnnxCommand(opts);
      else await exportSafetensorsCommand(opts);
    });
}

async function exportSafetensorsCommand(opts: ExportFlags): Promise<void> {
  const { exportPtCheckpoint } = await import("../io/pt-export.js");
  const { describeSeedAttributeReport } = await import("../io/seed-attributes.js");
  const { asUserErrors } = await import("./user-errors.js");
  const report = await asUserErrors(() =>
    exportPtCheckpoint({ weights: opts.weights, attrWeights: opts.attrWeights ?? null, out: opts.out ?? null }),
  );
  process.stdout.write(
    `${opts.weights}: ${report.weightsFrom} weights, nc ${report.nc}, strides ${report.stride.join("/")}, ` +
      `${report.parameters.toLocaleString("en-US")} parameters${report.epoch === null ? "" : `, epoch ${report.epoch}`}\n`,
  );
  if (report.attributes) process.stdout.write(`${describeSeedAttributeReport(report.attributes)}\n`);
  process.stdout.write(`wrote ${report.out}\n`);
}

async function exportOnnxCommand(opts: ExportFlags): Promise<void> {
  const { runOnnxExport } = await import("../runs/export-run.js");
  const { seedAttributeWeights } = await import("../io/seed-head-path.js");
  const attrWeights = seedAttributeWeights(opts.weights, opts.attrWeights);
  const { asUserErrors } = await import("./user-errors.js");
  await asUserErrors(() =>
    runOnnxExport({
      weights: opts.weights,
      attrWeights: attrWeights ?? null,
      out: opts.out ?? null,
      imgsz: opts.imgsz ?? [DEFAULT_IMG_SIZE],
      dynamic: opts.dynamic ?? false,
      batch: opts.batchSize,
      ...(opts.opset === undefined ? {} : { opset: opts.opset }),
      include: opts.include,
    }),
  );
}
