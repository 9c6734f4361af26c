/**
 * Flags of YOLOv5's train.py / val.py that sladet does not take. A user arriving with the seed's commands gets a
 * message naming the flag and why, never a silent ignore. (Flags sladet takes are declared by each command.)
 */
import { UserError } from "./errors.js";

/** flag → why it is not supported (or what to use instead). */
export const UNSUPPORTED_TRAIN_FLAGS: Readonly<Record<string, string>> = {
  "--rect": "rectangular training batches are not supported (validation always uses them)",
  "--nosave": "sladet always saves weights/last and weights/best",
  "--noval": "sladet validates every epoch (fitness selects weights/best)",
  "--noplots": "plots are part of report.html",
  "--evolve": "hyperparameter evolution is not implemented",
  "--bucket": "cloud storage is not supported (offline tool)",
  "--image-weights": "image-weighted sampling is not implemented",
  "--multi-scale": "multi-scale training is not implemented",
  "--single-cls": "single-class training is not implemented: convert the labels instead",
  "--optimizer": "sladet trains with SGD (Nesterov) as the seed does",
  "--quad": "the quad dataloader is not implemented",
  "--label-smoothing": "set label_smoothing in the hyp YAML instead",
  "--local_rank":
    "sladet reads LOCAL_RANK from the environment, as torchrun sets it (torch.distributed.launch's flag is not taken)",
  "--entity": "W&B logging is not supported (offline tool)",
  "--upload_dataset": "W&B logging is not supported (offline tool)",
  "--bbox_interval": "W&B logging is not supported (offline tool)",
  "--artifact_alias": "W&B logging is not supported (offline tool)",
  "--ndjson-console": "ndjson logging is not supported",
  "--ndjson-file": "ndjson logging is not supported",
};

/** Flags of val.py / test.py that sladet's val does not take. */
export const UNSUPPORTED_VAL_FLAGS: Readonly<Record<string, string>> = {
  "--save-json": "COCO JSON export of predictions is not implemented; use --coco for COCO-style metrics",
  "--save-hybrid": "hybrid label saving is not implemented",
  "--save-conf": "use sladet detect --save-txt",
  "--augment": "test-time augmentation is not implemented",
  "--half": "half precision is not supported on CPU",
  "--dnn": "OpenCV DNN is not used; see sladet detect --backend onnx",
  "--single-cls": "single-class evaluation is not implemented",
  "--verbose": "per-class results are always printed",
};

/** Flags of detect.py that sladet's detect does not take. */
export const UNSUPPORTED_DETECT_FLAGS: Readonly<Record<string, string>> = {
  "--view-img": "no windows are opened: the annotated images are in the run folder",
  "--save-crop": "cropping cells is not implemented; the boxes are in predictions.csv",
  "--save-conf":
    "the label files keep the 16 LLD columns sladet's readers take; confidences are in predictions.csv and predictions.json",
  "--augment": "test-time augmentation is not implemented",
  "--visualize": "feature-map visualisation is not implemented",
  "--update": "there is nothing to strip from sladet checkpoints",
  "--half": "half precision is not supported on CPU",
  "--dnn": "OpenCV DNN is not used; see --backend onnx",
  "--vid-stride": "videos are not supported; extract the frames as images",
  "--data": "the class names come from the weights",
};

/**
 * Throws a UserError for the first unsupported flag in `argv` (after the command name), with the reason.
 * Accepts `--flag` and `--flag=value`.
 */
export function rejectUnsupportedFlags(
  argv: readonly string[],
  table: Readonly<Record<string, string>>,
  command: string,
): void {
  for (const arg of argv) {
    const flag = arg.split("=")[0]!;
    const why = table[flag];
    if (why !== undefined) throw new UserError(`${command}: ${flag} (a YOLOv5 flag) is not supported: ${why}`);
  }
}
