/**
 * `sladet detect` (the seed's detect.py, with its bugs fixed: method.md §7): detect white cells and their 7
 * attributes in images and write a run folder a hematologist can look at and a script can read. The engine is loaded
 * only in the action, so `--help` works without the native addon.
 */
import { type Command, Option } from "commander";
import { backendFor, modelFileFor } from "../infer/model-file.js";
import { BACKENDS, type Backend } from "../infer/predictor.js";
import {
  DEFAULT_DEVICE,
  DEFAULT_IMG_SIZE,
  DEFAULT_RUN_NAME,
  DETECT_BATCH_SIZE,
  DETECT_CONF_THRES,
  DETECT_IOU_THRES,
  DETECT_MAX_DET,
  DETECT_PROJECT,
} from "../runs/defaults.js";
import { UserError } from "./errors.js";
import { parseImgSize, parseIntOption, parsePositiveFloat, parseUnitFloat } from "./options.js";
import { resolveTestWeights } from "./test.js";

export interface DetectFlags {
  weights?: string;
  attrWeights?: string;
  source: string;
  imgsz?: number;
  batchSize: number;
  confThres: number;
  iouThres: number;
  maxDet: number;
  classes?: number[];
  agnosticNms: boolean;
  device: string;
  /** Default: onnx for an .onnx file; otherwise the faster one (src/runs/detect-backend.ts): onnx on the CPU. */
  backend?: Backend;
  hideAttrs: boolean;
  hideLabels: boolean;
  hideConf: boolean;
  lineThickness?: number;
  saveTxt: boolean;
  saveCsv: boolean;
  nosave: boolean;
  project: string;
  name: string;
  existOk: boolean;
}

/**
 * The backend and the file `sladet detect` opens: --weights by the shared rule (src/infer/model-file.ts); without it,
 * the newest run's weights/best in libtorch.
 */
export function detectModel(
  weights: string | undefined,
  given: Backend | undefined,
): { backend: Backend; file: string } {
  if (weights === undefined) {
    if (given === "onnx") throw new UserError("detect --backend onnx needs --weights (an .onnx file or a run folder)");
    return { backend: "libtorch", file: resolveTestWeights(undefined, "detect") };
  }
  const backend = backendFor(weights, given);
  return { backend, file: modelFileFor(weights, backend) };
}

const HELP_AFTER = `
What you get (a new folder runs/detect/exp, exp2, …; --project/--name/--exist-ok):
  <image>.jpg        each image at its own resolution with the cells boxed (a colour per class), labelled with
                     the class, the confidence and the attribute code, e.g. "M·CII·ASA": Cell Size S/M/L, then
                     nucleus (chromatin Open/Coarse, shape Regular/Irregular, nucleolus Inconspicuous/Prominent),
                     then cytoplasm (Scanty/Abundant, basophilia Slight/Moderate, vacuoles Absent/Prominent);
                     a faded letter = less than 70% sure. legend.txt in the folder spells it out.
  predictions.csv    one row per cell: the seed's columns (Image Name, Prediction, Confidence, the six binary
                     attributes as 0/1, x_min y_min x_max y_max in original pixels), Cell Size (0/1/2) and the
                     probability of every attribute value
  predictions.json   the same per image, with image sizes, settings, class and attribute names, skipped files
  labels/<stem>.txt  with --save-txt: LLD label lines (cls xc yc w h 0 0 W H a0..a6) to seed new annotations
  report.html        a report of the run
Unreadable images are reported, listed in predictions.json "skipped", and the run goes on.

Sources: an image, a folder (its images, in natural order: img2 before img10), a glob in quotes ("films/**/*.jpg"), or a .txt list of paths
(relative to the list's folder).

Example:
  sladet detect --weights runs/train/exp --source films/ --batch-size 4 --save-txt
`;

/** What `sladet detect` runs: the backend, the file it opens, why, the seed's head for libtorch, the weights as given. */
interface DetectChoice {
  backend: Backend;
  weights: string;
  why: string;
  attrWeights: string | undefined;
  given: string;
}

/**
 * The backend and file of a detect run: --backend or an .onnx file decide; otherwise the faster one for the weights
 * (src/runs/detect-backend.ts). A default onnx export carries the seed's head, so only libtorch gets `attrWeights`
 * (and a given .onnx, which createPredictor refuses with a message).
 */
async function chooseBackend(flags: DetectFlags): Promise<DetectChoice> {
  const { asUserErrors } = await import("./user-errors.js");
  const chosen = await asUserErrors(() => detectModel(flags.weights, flags.backend));
  const { seedAttributeWeights } = await import("../io/seed-head-path.js");
  const seedHead = chosen.backend === "libtorch" ? seedAttributeWeights(chosen.file, flags.attrWeights) : undefined;
  const base = { given: chosen.file, weights: chosen.file, backend: chosen.backend };
  if (flags.backend !== undefined || chosen.backend === "onnx") {
    const why = flags.backend === undefined ? "an ONNX file" : "--backend";
    return { ...base, why, attrWeights: chosen.backend === "libtorch" ? seedHead : flags.attrWeights };
  }
  const { defaultDetectBackend } = await import("../runs/detect-backend.js");
  const choice = await defaultDetectBackend({
    weights: chosen.file,
    device: flags.device,
    ...(seedHead === undefined ? {} : { attrWeights: seedHead }),
  });
  return {
    ...base,
    backend: choice.backend,
    weights: choice.file,
    why: choice.why,
    attrWeights: choice.backend === "libtorch" ? seedHead : undefined,
  };
}

export function register(program: Command): void {
  program
    .command("detect")
    .description("detect white cells and their 7 attributes in images: annotated images, CSV, JSON, labels")
    .option(
      "--weights <file|run>",
      "checkpoint, YOLOv5 .pt, .onnx (selects --backend onnx), or a run folder (its weights/best); default: the newest run's weights/best",
    )
    .option(
      "--attr-weights <file>",
      "the seed's attribute head (Attribute_model/last_weights.pth; used by default with a .pt when it exists)",
    )
    .requiredOption("--source <path>", "an image, a folder, a glob (quoted) or a .txt list of images")
    .option(
      "--imgsz <px>",
      `network size: the long side of each image (aliases --img, --img-size; default ${DEFAULT_IMG_SIZE}, or a fixed-size ONNX export's)`,
      parseImgSize(1),
    )
    .option(
      "--batch-size <n>",
      "images per forward pass (alias --batch)",
      parseIntOption("--batch-size", 1),
      DETECT_BATCH_SIZE,
    )
    .option("--conf-thres <x>", "confidence threshold", parseUnitFloat("--conf-thres"), DETECT_CONF_THRES)
    .option("--iou-thres <x>", "NMS IoU threshold", parseUnitFloat("--iou-thres"), DETECT_IOU_THRES)
    .option("--max-det <n>", "cells per image at most", parseIntOption("--max-det", 1), DETECT_MAX_DET)
    .option("--classes <n...>", "keep only these class indices", (v: string, prev: number[] | undefined) => [
      ...(prev ?? []),
      parseIntOption("--classes", 0)(v),
    ])
    .option("--agnostic-nms", "class-agnostic NMS (one box per cell whatever its class)", false)
    .option("--device <dev>", "cpu, or cuda:N with a CUDA libtorch", DEFAULT_DEVICE)
    .addOption(
      new Option(
        "--backend <name>",
        "inference engine (default: the faster one: onnx on the CPU, on an ONNX export made once and cached next to the weights; libtorch on a GPU)",
      ).choices(BACKENDS),
    )
    .option("--hide-attrs", "no attributes (the attribute head does not run)", false)
    .option("--hide-labels", "boxes only, no labels", false)
    .option("--hide-conf", "no confidence in the labels", false)
    .option(
      "--line-thickness <px>",
      "box line width (default: scaled to the image)",
      parsePositiveFloat("--line-thickness"),
    )
    .option("--save-txt", "also write labels/<stem>.txt (LLD label lines)", false)
    .option("--save-csv", "predictions.csv (always written; accepted for the seed's detect.py command)", false)
    .option("--nosave", "no annotated images", false)
    .option("--project <dir>", "parent folder of run folders", DETECT_PROJECT)
    .option("--name <name>", "run name (<project>/<name>, <name>2, …)", DEFAULT_RUN_NAME)
    .option("--exist-ok", "reuse the run folder instead of incrementing", false)
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: DetectFlags) => {
      const { asUserErrors } = await import("./user-errors.js");
      const { backend, weights, why, attrWeights, given } = await chooseBackend(flags);
      const { runDetect } = await import("../runs/detect-run.js");
      let device = "cpu";
      if (backend === "libtorch") {
        const { resolveDevice } = await import("../torch/index.js");
        try {
          device = resolveDevice(flags.device);
        } catch (err) {
          throw new UserError((err as Error).message);
        }
      } else if (flags.device !== "cpu") {
        throw new UserError(`--device ${flags.device}: the onnx backend runs on the CPU`);
      }
      process.stdout.write(
        `detect: ${weights} (${backend}${device === "cpu" ? "" : `, ${device}`}: ${why}) on ${flags.source}\n`,
      );
      await asUserErrors(() =>
        runDetect({
          weights,
          weightsName: given,
          source: flags.source,
          backend,
          ...(flags.imgsz === undefined ? {} : { imgsz: flags.imgsz }),
          batchSize: flags.batchSize,
          confThres: flags.confThres,
          iouThres: flags.iouThres,
          maxDet: flags.maxDet,
          agnostic: flags.agnosticNms,
          predictorOptions: { device, ...(attrWeights === undefined ? {} : { attrWeights }) },
          hideAttrs: flags.hideAttrs,
          hideLabels: flags.hideLabels,
          hideConf: flags.hideConf,
          saveTxt: flags.saveTxt,
          nosave: flags.nosave,
          project: flags.project,
          name: flags.name,
          existOk: flags.existOk,
          ...(flags.classes ? { classes: flags.classes } : {}),
          ...(flags.lineThickness === undefined ? {} : { lineThickness: flags.lineThickness }),
        }),
      );
    });
}
