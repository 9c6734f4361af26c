#!/usr/bin/python3
"""Evaluation-parity fixture (issue 23) from Ultralytics YOLOv5 v7.0's own val.py. Dev tool only.

Run: /usr/bin/python3 tools/oracle/yolov5_val.py [path to YOLOv5 v7.0, default /tmp/yolov5]
(how to get that tree: ../shared/tools/ultralytics/README.md). YOLOv5 is AGPL: this script imports and runs it, it
copies none of it; only its outputs are committed.

Writes test/fixtures/evalparity/:
  images/val/*.png, labels/val/*.txt  8 synthetic blood-film-like images (3 classes: big, mid, small cells), long side
                      IMGSZ so neither YOLOv5 nor sladet resizes them; non-square sizes whose rect-batch padding is odd
                      (val.py subtracts the unrounded half padding); cells cut by the border, so boxes touch it
  data.yaml           the dataset (path: . for sladet; the oracle hands val.py an absolute copy)
  tiny3.pt            a real YOLOv5 DetectionModel (models/yolov5n.yaml, width 1/32, nc 3) built by YOLOv5's code,
                      trained a few hundred steps on these images with YOLOv5's ComputeLoss so that its boxes overlap
                      the labels at every IoU, saved as YOLOv5 saves a stripped checkpoint (fp16 `model`, ema None)
  val.safetensors     per image i: `input/i` val.py's detections after NMS in network-input pixels [n,6];
                      `native/i` the same after scale_boxes (original pixels, clipped: what val.py matches);
                      `unclipped/i` scaled but not clipped; `labels/i` val.py's native labels [m,5];
                      `metrics` and `metrics_unclipped` [1 + nc, 4]: P, R, mAP50, mAP50-95 of all, then per class
                      (val.py's ap_per_class, with clip_boxes as shipped / turned into a no-op);
                      metadata `images` (file, size, batch input shape, ratio_pad) and the thresholds
"""
import copy
import datetime
import json
import os
import shutil
import sys
import tempfile

import cv2
import numpy as np
import torch
import yaml

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402
from yolov5_offline import use_yolov5  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "evalparity")
YOLOV5 = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "/tmp/yolov5")
IMGSZ = 256
BATCH = 4
CONF, IOU, MAX_DET = 0.001, 0.6, 300
NAMES = ["big", "mid", "small"]
# (width, height): long side IMGSZ; 171 and 181 give odd rect padding (10.5 and 21.5 px on each side)
SIZES = [(256, 171), (256, 170), (181, 256), (256, 256), (256, 131), (200, 256), (256, 171), (256, 229)]
# per class: radius range (pixels), fill colour (BGR)
CELLS = {0: ((26, 34), (150, 60, 120)), 1: ((14, 19), (90, 90, 210)), 2: ((5, 8), (110, 40, 70))}
TRAIN_STEPS = 300

use_yolov5(YOLOV5)
import val as yolo_val  # noqa: E402
import utils.general as yolo_general  # noqa: E402
from models.yolo import DetectionModel  # noqa: E402
from utils.callbacks import Callbacks  # noqa: E402
from utils.dataloaders import LoadImagesAndLabels  # noqa: E402
from utils.general import scale_boxes, xywh2xyxy  # noqa: E402
from utils.loss import ComputeLoss  # noqa: E402


def make_images(rng):
    """Synthetic cells on a pale background, some cut by the image border; YOLO labels clipped to the image."""
    img_dir, lab_dir = os.path.join(OUT, "images", "val"), os.path.join(OUT, "labels", "val")
    os.makedirs(img_dir)
    os.makedirs(lab_dir)
    for k, (w, h) in enumerate(SIZES):
        im = np.full((h, w, 3), (215, 205, 235), np.uint8)
        rows = []
        for cls in [0, 0] + [1] * 7 + [2] * 4:
            (rmin, rmax), colour = CELLS[cls]
            r = int(rng.integers(rmin, rmax + 1))
            # a third of the cells sit on the border
            on_border = rng.random() < 0.35
            cx = int(rng.choice([0, w]) + rng.integers(-r // 2, r // 2 + 1)) if on_border else int(rng.integers(r, w - r))
            cy = int(rng.integers(0, h))
            ry = int(r * rng.uniform(0.8, 1.2))
            cv2.ellipse(im, (cx, cy), (r, ry), 0, 0, 360, colour, -1, cv2.LINE_AA)
            x1, y1, x2, y2 = max(cx - r, 0), max(cy - ry, 0), min(cx + r, w), min(cy + ry, h)
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            rows.append(f"{cls} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}")
        name = f"cells{k}"
        # (YOLOv5 replaces cv2.imwrite with a two-argument version)
        cv2.imencode(".png", im, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1].tofile(os.path.join(img_dir, f"{name}.png"))
        with open(os.path.join(lab_dir, f"{name}.txt"), "w") as f:
            f.write("\n".join(rows) + "\n")


def write_data_yaml(path, base):
    with open(path, "w") as f:
        yaml.safe_dump({"path": base, "train": "images/val", "val": "images/val", "nc": len(NAMES), "names": NAMES}, f,
                       sort_keys=False)


def train_model(data_dir):
    """YOLOv5's DetectionModel (yolov5n topology, width 1/32), trained briefly on the fixture images."""
    with open(os.path.join(YOLOV5, "models", "yolov5n.yaml")) as f:
        cfg = yaml.safe_load(f)
    cfg.update(nc=len(NAMES), width_multiple=0.03125)
    torch.manual_seed(0)
    model = DetectionModel(cfg, ch=3, nc=len(NAMES))
    with open(os.path.join(YOLOV5, "data", "hyps", "hyp.scratch-low.yaml")) as f:
        hyp = yaml.safe_load(f)
    model.nc, model.hyp, model.names = len(NAMES), hyp, NAMES  # as train.py sets them
    dataset = LoadImagesAndLabels(os.path.join(data_dir, "images", "val"), IMGSZ, len(SIZES), augment=False, hyp=hyp,
                                  stride=32)
    im, targets, _, _ = LoadImagesAndLabels.collate_fn([dataset[i] for i in range(len(dataset))])
    im = im.float() / 255
    loss_fn = ComputeLoss(model)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for step in range(TRAIN_STEPS):
        loss, _ = loss_fn(model(im), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"trained {TRAIN_STEPS} steps, final loss {loss.item():.3f}")
    model.eval()
    return model


def save_checkpoint(model, path):
    """A stripped YOLOv5 checkpoint (as strip_optimizer leaves best.pt): fp16 `model`, no EMA or optimizer."""
    ckpt = {"epoch": -1, "best_fitness": None, "model": copy.deepcopy(model).half(), "ema": None, "updates": None,
            "optimizer": None, "opt": {"imgsz": IMGSZ, "cfg": "yolov5n.yaml"}, "git": None,
            "date": datetime.datetime(2026, 12, 1, 12, 0, 0).isoformat()}
    torch.save(ckpt, path)


def run_val(data_yaml, weights, project):
    """val.py's run() as `python val.py --task val --batch-size BATCH --imgsz IMGSZ` would call it, recording each
    batch's detections (callbacks) and the ap_per_class results."""
    batches, results = [], {}
    cb = Callbacks()
    cb.register_action("on_val_batch_end", callback=lambda *a: batches.append([x for x in a]))
    ap_per_class = yolo_val.ap_per_class

    def recording_ap_per_class(*args, **kwargs):
        out = ap_per_class(*args, **kwargs)
        results["p"], results["r"], results["ap"], results["classes"] = out[2], out[3], out[5], out[6]
        return out

    yolo_val.ap_per_class = recording_ap_per_class
    try:
        (mp, mr, map50, map_, *_), _, _ = yolo_val.run(
            data=data_yaml, weights=weights, batch_size=BATCH, imgsz=IMGSZ, conf_thres=CONF, iou_thres=IOU,
            max_det=MAX_DET, task="val", device="cpu", workers=0, verbose=True, project=project, name="exp",
            exist_ok=True, half=False, plots=False, callbacks=cb)
    finally:
        yolo_val.ap_per_class = ap_per_class
    table = [[mp, mr, map50, map_]]
    for k in range(len(NAMES)):
        i = list(results["classes"]).index(k)
        table.append([results["p"][i], results["r"][i], results["ap"][i, 0], results["ap"][i].mean()])
    return batches, torch.tensor(table, dtype=torch.float64)


def per_image(batches):
    """Detections and labels of every image, as val.py matched them, plus the unclipped and input-frame versions."""
    tensors, images = {}, []
    for _, im, targets, paths, shapes, preds in batches:
        for si, pred in enumerate(preds):
            i = len(images)
            (h0, w0), ratio_pad = shapes[si]
            gain, (pad_x, pad_y) = ratio_pad[0][0], ratio_pad[1]
            unclipped = pred[:, :6].clone()
            unclipped[:, [0, 2]] = (unclipped[:, [0, 2]] - pad_x) / gain
            unclipped[:, [1, 3]] = (unclipped[:, [1, 3]] - pad_y) / gain
            native = pred[:, :6].clone()
            scale_boxes(im[si].shape[1:], native[:, :4], (h0, w0), ratio_pad)
            labels = targets[targets[:, 0] == si, 1:]
            tbox = xywh2xyxy(labels[:, 1:5])
            scale_boxes(im[si].shape[1:], tbox, (h0, w0), ratio_pad)
            tensors[f"input/{i}"] = pred[:, :6].float().contiguous()
            tensors[f"native/{i}"] = native.float().contiguous()
            tensors[f"unclipped/{i}"] = unclipped.float().contiguous()
            tensors[f"labels/{i}"] = torch.cat((labels[:, :1], tbox), 1).float().contiguous()
            images.append({"file": os.path.basename(paths[si]), "width": int(w0), "height": int(h0),
                           "input": list(im[si].shape[1:]), "gain": float(gain), "pad": [float(pad_x), float(pad_y)]})
    return tensors, images


def main():
    torch.set_num_threads(1)
    shutil.rmtree(OUT, ignore_errors=True)
    make_images(np.random.default_rng(23))
    write_data_yaml(os.path.join(OUT, "data.yaml"), ".")
    work = tempfile.mkdtemp(prefix="yolov5-val-")
    try:
        data_yaml = os.path.join(work, "data.yaml")
        write_data_yaml(data_yaml, OUT)
        model = train_model(OUT)
        weights = os.path.join(OUT, "tiny3.pt")
        save_checkpoint(model, weights)
        batches, metrics = run_val(data_yaml, weights, work)
        clip_boxes = yolo_general.clip_boxes
        yolo_general.clip_boxes = lambda boxes, shape: None  # val.py with clipping turned off
        try:
            _, metrics_unclipped = run_val(data_yaml, weights, work)
        finally:
            yolo_general.clip_boxes = clip_boxes
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for cache in ("labels/val.cache", "labels/val.cache.npy"):
            if os.path.exists(os.path.join(OUT, cache)):
                os.remove(os.path.join(OUT, cache))
    tensors, images = per_image(batches)
    tensors["metrics"], tensors["metrics_unclipped"] = metrics, metrics_unclipped
    meta = {"images": json.dumps(images), "imgsz": IMGSZ, "batch": BATCH, "conf": CONF, "iou": IOU, "maxDet": MAX_DET,
            "names": json.dumps(NAMES)}
    save(os.path.join(OUT, "val.safetensors"), tensors, meta)
    print("metrics (P, R, mAP50, mAP50-95; all, then per class):\n", metrics.numpy().round(4))
    print("with clipping off:\n", metrics_unclipped.numpy().round(4))
    print("detections per image:", [tensors[f"input/{i}"].shape[0] for i in range(len(images))])


if __name__ == "__main__":
    main()
