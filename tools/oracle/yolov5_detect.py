#!/usr/bin/python3
"""Detect-parity fixture (issue 23 item 2) from Ultralytics YOLOv5 v7.0's own detect.py. Dev tool only.

Run (after tools/oracle/yolov5_val.py, whose tiny3.pt it uses):
  /usr/bin/python3 tools/oracle/yolov5_detect.py [path to YOLOv5 v7.0, default /tmp/yolov5]
(how to get that tree: ../shared/tools/ultralytics/README.md). YOLOv5 is AGPL: this script imports and runs it, it
copies none of it; only its outputs are committed.

Writes test/fixtures/detectparity/:
  images/*.png, *.jpg  the evaluation fixture's synthetic fields of view resized (OpenCV, INTER_CUBIC, so the pixels
                       are not themselves a linear resample) to sizes that make detect.py's letterbox enlarge, shrink
                       or keep them at IMGSZ: long sides 97-613 px, odd sizes, one JPEG
  detect.safetensors   per image (sorted by file name, as detect.py's LoadImages lists them) i:
                       `boxes/i` [n, 6]: detect.py's detections in original pixels as scale_boxes returns them (x1, y1,
                       x2, y2, confidence, class), before detect.py's `.round()` of the coordinates;
                       `input/i` the same in network-input pixels (non_max_suppression's output);
                       metadata: `images` (file, width, height, input shape), the thresholds and IMGSZ
"""
import json
import os
import shutil
import sys
import tempfile

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402
from yolov5_offline import use_yolov5  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCE = os.path.join(ROOT, "test", "fixtures", "evalparity")
OUT = os.path.join(ROOT, "test", "fixtures", "detectparity")
YOLOV5 = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "/tmp/yolov5")
IMGSZ = 256
# detect.py's defaults
CONF, IOU, MAX_DET = 0.25, 0.45, 1000
# (source image, new width, new height, extension): enlarge (97 x 150 -> 166 x 256), shrink (613 x 409, 400 x 300),
# no resize (256 x 171), odd sizes whose letterbox padding is odd, one JPEG (quality 90)
VARIANTS = [
    ("cells0", 613, 409, "png"),
    ("cells2", 97, 150, "png"),
    ("cells3", 400, 300, "jpg"),
    ("cells4", 333, 171, "png"),
    ("cells6", 256, 171, "png"),
    ("cells7", 181, 203, "png"),
]

use_yolov5(YOLOV5)
import detect as yolo_detect  # noqa: E402


def make_images():
    img_dir = os.path.join(OUT, "images")
    os.makedirs(img_dir)
    for name, w, h, ext in VARIANTS:
        im = cv2.imread(os.path.join(SOURCE, "images", "val", f"{name}.png"))
        im = cv2.resize(im, (w, h), interpolation=cv2.INTER_CUBIC)
        params = [cv2.IMWRITE_JPEG_QUALITY, 90] if ext == "jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 9]
        cv2.imencode(f".{ext}", im, params)[1].tofile(os.path.join(img_dir, f"{name}-{w}x{h}.{ext}"))


def run_detect(weights, source, project):
    """detect.py's run() as `python detect.py --weights W --source S --imgsz IMGSZ --nosave` calls it, recording
    non_max_suppression's output and scale_boxes' result for every image."""
    records = []
    nms, scale = yolo_detect.non_max_suppression, yolo_detect.scale_boxes

    def recording_nms(*args, **kwargs):
        out = nms(*args, **kwargs)
        records.append({"input": out[0][:, :6].clone()})
        return out

    def recording_scale_boxes(img1_shape, boxes, img0_shape, ratio_pad=None):
        out = scale(img1_shape, boxes, img0_shape, ratio_pad)
        records[-1]["boxes"] = out.clone()
        records[-1]["shape"] = list(img1_shape)
        return out

    yolo_detect.non_max_suppression, yolo_detect.scale_boxes = recording_nms, recording_scale_boxes
    try:
        yolo_detect.run(weights=weights, source=source, imgsz=(IMGSZ, IMGSZ), conf_thres=CONF, iou_thres=IOU,
                        max_det=MAX_DET, device="cpu", nosave=True, project=project, name="exp", exist_ok=True)
    finally:
        yolo_detect.non_max_suppression, yolo_detect.scale_boxes = nms, scale
    return records


def main():
    torch.set_num_threads(1)
    shutil.rmtree(OUT, ignore_errors=True)
    make_images()
    work = tempfile.mkdtemp(prefix="yolov5-detect-")
    try:
        records = run_detect(os.path.join(SOURCE, "tiny3.pt"), os.path.join(OUT, "images"), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    files = sorted(os.listdir(os.path.join(OUT, "images")))
    assert len(records) == len(files), (len(records), files)
    tensors, images = {}, []
    for i, (file, rec) in enumerate(zip(files, records)):
        h, w = cv2.imread(os.path.join(OUT, "images", file)).shape[:2]
        boxes = rec["input"].clone()
        if "boxes" in rec:  # detect.py calls scale_boxes only when an image has detections
            boxes[:, :4] = rec["boxes"]
        tensors[f"input/{i}"] = rec["input"].float().contiguous()
        tensors[f"boxes/{i}"] = boxes.float().contiguous()
        images.append({"file": file, "width": w, "height": h, "input": rec.get("shape")})
    meta = {"images": json.dumps(images), "imgsz": IMGSZ, "conf": CONF, "iou": IOU, "maxDet": MAX_DET}
    save(os.path.join(OUT, "detect.safetensors"), tensors, meta)
    print("detections per image:", {im["file"]: tensors[f"boxes/{i}"].shape[0] for i, im in enumerate(images)})


if __name__ == "__main__":
    main()
