/**
 * `sladet val`: validate weights on a dataset split (YOLOv5's val.py flags). With an attribute head in the weights
 * and attributes in the data, the attribute table and CSVs too. `sladet test` (./test.ts) shares these options.
 */
import { type Command, Option } from "commander";
import {
  ATTRIBUTE_MATCH_IOU,
  DEFAULT_DEVICE,
  DEFAULT_IMG_SIZE,
  DEFAULT_RUN_NAME,
  VAL_BATCH_SIZE,
  VAL_CONF_THRES,
  VAL_IOU_THRES,
  VAL_MAX_DET,
  VAL_PROJECT,
} from "../runs/defaults.js";
import type { ValRunOptions } from "../runs/val-run.js";
import { parseImgSize, parseIntOption, parseUnitFloat } from "./options.js";

export interface ValFlags {
  data: string;
  weights: string;
  task: "val" | "test" | "train";
  batchSize: number;
  imgsz: number;
  confThres: number;
  iouThres: number;
  maxDet: number;
  device: string;
  workers?: number;
  project: string;
  name: string;
  existOk: boolean;
  coco: boolean;
  saveCsv: boolean;
  attrWeights?: string;
  attrIou: number;
}

/** The options of `val` and `test` (YOLOv5 val.py's, plus the attribute ones). */
export function addValidationOptions(cmd: Command, defaults: { project: string; task: "val" | "test" }): Command {
  return cmd
    .requiredOption("--data <yaml>", "dataset YAML")
    .addOption(
      new Option("--task <split>", "split to evaluate").choices(["val", "test", "train"]).default(defaults.task),
    )
    .option("--batch-size <n>", "images per batch (alias --batch)", parseIntOption("--batch", 1), VAL_BATCH_SIZE)
    .option(
      "--imgsz <px>",
      "input size, a multiple of 32 (aliases --img, --img-size)",
      parseImgSize(32),
      DEFAULT_IMG_SIZE,
    )
    .option("--conf-thres <x>", "confidence threshold", parseUnitFloat("--conf-thres"), VAL_CONF_THRES)
    .option("--iou-thres <x>", "NMS IoU threshold", parseUnitFloat("--iou-thres"), VAL_IOU_THRES)
    .option("--max-det <n>", "detections per image", parseIntOption("--max-det", 1), VAL_MAX_DET)
    .option("--device <dev>", "cpu, or cuda:N with a CUDA libtorch", DEFAULT_DEVICE)
    .option("--workers <n>", "data-loader worker threads", parseIntOption("--workers", 0))
    .option("--project <dir>", "parent folder of run folders", defaults.project)
    .option("--name <name>", "run name", DEFAULT_RUN_NAME)
    .option("--exist-ok", "reuse the run folder", false)
    .option("--coco", "also compute COCO-style metrics (area ranges, maxDets)", false)
    .option("--save-csv", "per-class metrics CSV (always written; accepted for the seed's test.py command)", false)
    .option("--attr-weights <pth>", "the seed's attribute head (Attribute_model/*.pth) instead of the checkpoint's")
    .option(
      "--attr-iou <x>",
      "IoU a detection needs to be compared with a ground-truth cell's attributes",
      parseUnitFloat("--attr-iou"),
      ATTRIBUTE_MATCH_IOU,
    );
}

/** Runs the validation a `val`/`test` command describes, with errors a user can act on. */
export async function runValidationCommand(flags: ValFlags, weights: string): Promise<void> {
  const { asUserErrors } = await import("./user-errors.js");
  const { runValidation } = await import("../runs/val-run.js");
  const { resolveDevice } = await import("../torch/index.js");
  await asUserErrors(async () => {
    if (resolveDevice(flags.device) !== "cpu") throw new Error("validation runs on the CPU in this build");
    const options: ValRunOptions = {
      data: flags.data,
      weights,
      task: flags.task,
      batch: flags.batchSize,
      imgsz: flags.imgsz,
      confThres: flags.confThres,
      iouThres: flags.iouThres,
      maxDet: flags.maxDet,
      workers: flags.workers,
      project: flags.project,
      name: flags.name,
      existOk: flags.existOk,
      coco: flags.coco,
      attrIou: flags.attrIou,
      ...(flags.attrWeights ? { attrWeights: flags.attrWeights } : {}),
    };
    await runValidation(options);
  });
}

export function register(program: Command): void {
  const cmd = program
    .command("val")
    .description(
      "validate weights on a dataset split: the YOLOv5 table, per-class CSV, confusion matrix, attribute table",
    )
    .requiredOption("--weights <file>", "sladet checkpoint or YOLOv5 .pt");
  addValidationOptions(cmd, { project: VAL_PROJECT, task: "val" }).action((flags: ValFlags) =>
    runValidationCommand(flags, flags.weights),
  );
}
