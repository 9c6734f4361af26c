/**
 * The detection-loss hyperparameters, under the seed's YAML key names (hyp.scratch-high.yaml), so a user's hyp file
 * maps onto them unchanged.
 */
export interface DetectionLossHyp {
  /** Box (CIoU) loss gain. */
  box: number;
  /** Objectness loss gain. */
  obj: number;
  /** Classification loss gain. */
  cls: number;
  /** Positive weight of the class BCE. */
  cls_pw: number;
  /** Positive weight of the objectness BCE. */
  obj_pw: number;
  /** Focal-loss gamma; 0 = plain BCE. */
  fl_gamma: number;
  /** A target matches an anchor when both wh ratios are below this. */
  anchor_t: number;
  /** Label smoothing epsilon (class targets 1 − ε/2 and ε/2). */
  label_smoothing: number;
}

/**
 * The seed's hyp.scratch-high.yaml values (fl_gamma 1.5 is the seed's change from YOLOv5's 0.0), before the per-model
 * scaling of {@link scaleLossGains}.
 */
export const SEED_LOSS_HYP: Readonly<DetectionLossHyp> = {
  box: 0.05,
  obj: 0.7,
  cls: 0.3,
  cls_pw: 1.0,
  obj_pw: 1.0,
  fl_gamma: 1.5,
  anchor_t: 4.0,
  label_smoothing: 0.0,
};

/** YOLOv5's reference configuration the hyp gains are tuned for: 3 levels, 80 classes, 640 px. */
export const REFERENCE_LEVELS = 3;
export const REFERENCE_CLASSES = 80;
export const REFERENCE_IMGSZ = 640;

/**
 * Scales the gains to a model and image size as YOLOv5's train.py does: box ×3/nl, cls ×nc/80·3/nl,
 * obj ×(imgsz/640)²·3/nl. (nc = 14, imgsz 640: box 0.05, obj 0.7, cls 0.0525.)
 */
export function scaleLossGains(
  hyp: DetectionLossHyp,
  model: { levels: number; classes: number; imgsz: number },
): DetectionLossHyp {
  const levelScale = REFERENCE_LEVELS / model.levels;
  return {
    ...hyp,
    box: hyp.box * levelScale,
    cls: ((hyp.cls * model.classes) / REFERENCE_CLASSES) * levelScale,
    obj: hyp.obj * (model.imgsz / REFERENCE_IMGSZ) ** 2 * levelScale,
  };
}
