/** `sladet val`: validate weights on a dataset split (YOLOv5's val.py flags; the seed's test.py command works). */
import { type Command, Option } from "commander";
import { parseIntOption } from "./options.js";

interface ValFlags {
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
}

const unitFloat = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`${flag} expects a number in [0, 1], got "${v}"`);
  return n;
};

export function register(program: Command): void {
  program
    .command("val")
    .description("validate weights on a dataset split: the YOLOv5 table, per-class CSV, confusion matrix")
    .requiredOption("--data <yaml>", "dataset YAML")
    .requiredOption("--weights <file>", "sladet checkpoint or YOLOv5 .pt")
    .addOption(new Option("--task <split>", "split to evaluate").choices(["val", "test", "train"]).default("val"))
    .option("--batch-size <n>", "images per batch (alias --batch)", parseIntOption("--batch", 1), 32)
    .option(
      "--imgsz <px>",
      "input size, a multiple of 32 (aliases --img, --img-size)",
      parseIntOption("--imgsz", 32),
      640,
    )
    .option("--conf-thres <x>", "confidence threshold", unitFloat("--conf-thres"), 0.001)
    .option("--iou-thres <x>", "NMS IoU threshold", unitFloat("--iou-thres"), 0.6)
    .option("--max-det <n>", "detections per image", parseIntOption("--max-det", 1), 300)
    .option("--device <dev>", "cpu, or cuda:N with a CUDA libtorch", "cpu")
    .option("--workers <n>", "data-loader worker threads", parseIntOption("--workers", 0))
    .option("--project <dir>", "parent folder of run folders", "runs/val")
    .option("--name <name>", "run name", "exp")
    .option("--exist-ok", "reuse the run folder", false)
    .option("--coco", "also compute COCO-style metrics (area ranges, maxDets)", false)
    .option("--save-csv", "per-class metrics CSV (always written; accepted for the seed's test.py command)", false)
    .action(async (flags: ValFlags) => {
      const { asUserErrors } = await import("./user-errors.js");
      const { runValidation } = await import("../eval/val-run.js");
      const { resolveDevice } = await import("../torch/index.js");
      await asUserErrors(async () => {
        if (resolveDevice(flags.device) !== "cpu") throw new Error("validation runs on the CPU in this build");
        await runValidation({
          data: flags.data,
          weights: flags.weights,
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
        });
      });
    });
}
