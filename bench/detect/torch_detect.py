#!/usr/bin/python3
"""PyTorch side of bench/detect: the pipeline of `sladet detect` written the way a PyTorch user writes it, weights
loaded once, stage by stage, timed with time.perf_counter:

  decode      PIL open + EXIF transpose + RGB, as a numpy array
  letterbox   resize keeping the aspect ratio so the long side is the network size (none for 640² images at 640),
              pad with grey 114 to stride multiples (border split round(d/2 - 0.1) before), float 0..1 NCHW
  forward     the YOLOv5 of tools/oracle/models.py (BatchNorm folded, as sladet's libtorch backend and the ONNX
              export run it) in torch.inference_mode(), decode included
  nms         YOLOv5's non_max_suppression (tools/oracle/nms.py, on torchvision.ops.nms)
  attributes  sladet's attribute head on the detections, written here in PyTorch (no PyTorch original exists: the
              oracle's MyCNN is the seed's head without the box-size input and the per-tap standardisation), on
              RoIAlign-pooled cells of its taps (torchvision.ops.roi_align, the oracle's quantisation), softmax
  drawing     boxes and the two label lines (class + confidence, the attribute code with uncertain letters faded)
              with PIL ImageDraw in DejaVu Sans Mono on the original image, JPEG quality 90 encode
  writing     the annotated JPEG (temp file + rename, as sladet writes), then predictions.csv and predictions.json

Boxes are mapped back to original pixels between nms/attributes and drawing (untimed: "other", like sladet's). The
weights are the sladet checkpoint itself (a safetensors file: detector.* = the YOLOv5 state dict, attributes.* = the
head's, the JSON metadata = model YAML, class names, head shape). One warm-up run on the first images, then one
timed run. Prints one JSON line (the shape of sladet-detect.ts's). Run by bench/detect/run.ts, never alone.

  /usr/bin/python3 bench/detect/torch_detect.py SETTINGS SCALE OUT
"""
import importlib.util
import io
import json
import math
import os
import shutil
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont, ImageOps
from torchvision.ops import roi_align

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "..", "tools", "oracle")
sys.path.insert(0, ORACLE)
# loaded under another name: the oracle registers stub packages called "models" itself
_spec = importlib.util.spec_from_file_location("yolo_oracle", os.path.join(ORACLE, "models.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)
from nms import nms  # noqa: E402  (tools/oracle/nms.py)

STAGES = ["decode", "letterbox", "forward", "nms", "attributes", "drawing", "writing"]
PAD = 114
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
# src/data/schema.ts (classes, attributes, CLASS_COLOURS), src/infer/attribute-code.ts, src/infer/draw.ts
LLD_CLASSES = ["None", "Myeloblast", "Lymphoblast", "Neutrophil", "Atypical lymphocyte", "Promonocyte", "Monoblast",
               "Lymphocyte", "Myelocyte", "Abnormal promyelocyte", "Monocyte", "Metamyelocyte", "Eosinophil",
               "Basophil"]
ATTRIBUTES = [("Cell Size", ["Small", "Medium", "Large"]), ("Nuclear Chromatin", ["Open", "Coarse"]),
              ("Nuclear Shape", ["Regular", "Irregular"]), ("Nucleolus", ["Inconspicuous", "Prominent"]),
              ("Cytoplasm", ["Scanty", "Abundant"]), ("Cytoplasmic Basophilia", ["Slight", "Moderate"]),
              ("Cytoplasmic Vacuoles", ["Absent", "Prominent"])]
COLOURS = ["#9e9e9e", "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
           "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324"]
GROUPS = [[0], [1, 2, 3], [4, 5, 6]]
UNCERTAIN_BELOW, UNCERTAIN_OPACITY = 0.7, 0.45
SEED_COLUMNS = ["Image Name", "Prediction", "Confidence", "Nuclear Chromatin", "Nuclear Shape", "Nucleus", "Cytoplasm",
                "Cytoplasmic Basophilia", "Cytoplasmic Vacuoles", "x_min", "y_min", "x_max", "y_max"]
CSV_COLUMNS = SEED_COLUMNS + ["Cell Size"] + [f"P({a}={v})" for a, vs in ATTRIBUTES for v in vs]
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


# ---- weights -------------------------------------------------------------------------------------------------------

SAFETENSORS_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
                      "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        arr = np.frombuffer(raw, dtype=SAFETENSORS_DTYPES[h["dtype"]], count=(b - a) // np.dtype(
            SAFETENSORS_DTYPES[h["dtype"]]).itemsize, offset=base + a)
        tensors[name] = torch.from_numpy(arr.copy()).reshape(h["shape"])
    return tensors, meta


class AttributeHead(nn.Module):
    """sladet's attribute head (src/model/attribute-head.ts) in PyTorch, eval mode (dropout is the identity)."""

    def __init__(self, in_channels, tap_channels, roi_size, input_norm, box_scale):
        super().__init__()
        self.tap_channels, self.input_norm, self.box_scale = tap_channels, input_norm, box_scale
        h, w = roi_size[0] // 2 // 2 // 2, roi_size[1] // 2 // 2 // 2
        self.conv1 = nn.Conv2d(in_channels, 128, 3, padding=1)
        self.conv2 = nn.Conv2d(128, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * h * w, 1024)
        self.fcBox = nn.Linear(2, 1024, bias=False)
        self.fc2 = nn.Linear(1024, 256)
        self.fc3 = nn.Linear(256, 12)
        self.fcSize = nn.Linear(256, 3)

    @staticmethod
    def standardise(x):
        c = x - x.mean((1, 2, 3), keepdim=True)
        return c / (c.pow(2).mean((1, 2, 3), keepdim=True) + 1e-5).sqrt()

    def forward(self, pooled, box_wh):
        x = torch.cat([self.standardise(p) for p in pooled.split(self.tap_channels, 1)], 1) if self.input_norm \
            else pooled
        for conv in (self.conv1, self.conv2, self.conv3):
            x = F.max_pool2d(F.leaky_relu(conv(x), 0.01), 2)
        h1 = F.leaky_relu(self.fc1(x.flatten(1)) + self.fcBox(box_wh * self.box_scale), 0.01)
        h2 = F.leaky_relu(self.fc2(h1), 0.01)
        return self.fcSize(h2), self.fc3(h2).view(-1, 6, 2)


def load(path):
    tensors, meta = read_safetensors(path)
    meta = json.loads(meta["sladet"])
    model = oracle.DetectionModel(meta["model"])
    part = lambda prefix: {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}  # noqa: E731
    model.load_state_dict(part("detector."), strict=True)
    model = oracle.fuse(model).eval()
    cfg = meta["attributeHead"]
    head = AttributeHead(cfg["inChannels"], cfg["tapChannels"], cfg["roiSize"], cfg["inputNorm"], cfg["boxScale"])
    head.load_state_dict(part("attributes."), strict=True)
    taps = {name: meta["taps"][name] for name in cfg["taps"] if name != "image"}
    return model, head.eval(), cfg["taps"], taps, cfg["roiSize"], meta["names"]


# ---- the pipeline ----------------------------------------------------------------------------------------------------

def list_source(source):
    if source.endswith(".txt"):
        folder = os.path.dirname(source)
        lines = [line.strip() for line in open(source)]
        return [ln if os.path.isabs(ln) else os.path.join(folder, ln) for ln in lines if ln and not ln.startswith("#")]
    names = sorted(n for n in os.listdir(source) if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith("."))
    return [os.path.join(source, n) for n in names]


def letterbox(im, imgsz, stride):
    w0, h0 = im.size
    r = imgsz / max(w0, h0)
    nw, nh = (w0, h0) if r == 1 else (max(1, math.ceil(w0 * r - 1e-6)), max(1, math.ceil(h0 * r - 1e-6)))
    if (nw, nh) != (w0, h0):
        im = im.resize((nw, nh), Image.BILINEAR)
    h, w = math.ceil(nh / stride) * stride, math.ceil(nw / stride) * stride
    left, top = round((w - nw) / 2 - 0.1), round((h - nh) / 2 - 0.1)
    x = torch.full((1, 3, h, w), PAD / 255)
    x[0, :, top:top + nh, left:left + nw] = torch.from_numpy(np.array(im)).permute(2, 0, 1).float().div_(255)
    return x, (nw / w0, nh / h0), (left, top)


def pool_cells(maps, rois, roi_size):
    """src/model/roi-pool.ts's poolCells: normalised boxes scaled to each map, truncated, ≥ 1 cell, roi_align."""
    parts = []
    for f in maps:
        h, w = f.shape[2], f.shape[3]
        s = rois * torch.tensor([1, w, h, w, h], dtype=rois.dtype)
        x1, y1, x2, y2 = s[:, 1].trunc(), s[:, 2].trunc(), s[:, 3].trunc(), s[:, 4].trunc()
        x2, y2 = torch.maximum(x2, x1 + 1), torch.maximum(y2, y1 + 1)
        r = torch.stack([s[:, 0], x1, y1, x2, y2], 1)
        parts.append(roi_align(f, r, output_size=tuple(roi_size), spatial_scale=1, sampling_ratio=-1, aligned=False))
    return torch.cat(parts, 1)


def colour(cls, names):
    palette = COLOURS if list(names) == LLD_CLASSES else COLOURS[1:]
    return palette[cls % len(palette)]


def text_colour(bg):
    r, g, b = (int(bg[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return (0, 0, 0) if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 else (255, 255, 255)


def hex_rgb(c):
    return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))


def code_parts(values, probs):
    parts = []
    for g, group in enumerate(GROUPS):
        if g:
            parts.append(("·", False))
        for i in group:
            parts.append((ATTRIBUTES[i][1][values[i]][0].upper(), probs[i][values[i]] < UNCERTAIN_BELOW))
    return parts


def draw(im, cells, names, font, font_size, lw):
    """src/infer/draw.ts's picture with PIL: boxes first, then every label (class + confidence, attribute code)."""
    im = im.copy()
    d = ImageDraw.Draw(im)
    line_h, pad = font_size * 1.2, font_size * 0.25
    width, height = im.size
    for c in cells:
        x1, y1, x2, y2 = c["box"]
        d.rectangle([x1, y1, x2, y2], outline=hex_rgb(colour(c["cls"], names)), width=lw)
    for c in cells:
        bg = colour(c["cls"], names)
        fg = text_colour(bg)
        lines = [[(f"{names[c['cls']]} {c['conf']:.2f}", False)], code_parts(c["values"], c["probs"])]
        box_w = max(sum(len(t) for t, _ in ln) for ln in lines) * font_size * 0.602 + 2 * pad
        box_h = len(lines) * line_h + pad
        x1, y1 = c["box"][0], c["box"][1]
        top = y1 - box_h if y1 - box_h >= 0 else min(y1, max(0, height - box_h))
        left = max(0, min(x1, width - box_w))
        d.rectangle([left, top, left + box_w, top + box_h], fill=hex_rgb(bg))
        faded = tuple(round(f * UNCERTAIN_OPACITY + b * (1 - UNCERTAIN_OPACITY)) for f, b in zip(fg, hex_rgb(bg)))
        for i, ln in enumerate(lines):
            x, y = left + pad, top + i * line_h + pad / 2
            for text, uncertain in ln:
                d.text((x, y), text, fill=faded if uncertain else fg, font=font)
                x += len(text) * font_size * 0.602
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path), f".{os.urandom(6).hex()}.tmp")
    with open(tmp, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.replace(tmp, path)


def csv_field(v):
    s = str(v)
    return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ',"\r\n') else s


def run(source, out, model, head, head_taps, taps, roi_size, names, s):
    """The detect loop; returns (wall seconds, stage seconds, images, cells)."""
    t = dict.fromkeys(STAGES, 0.0)
    start = time.perf_counter()
    files = list_source(source)
    os.makedirs(out, exist_ok=True)
    write_atomic(os.path.join(out, "legend.txt"), "Annotated images (bench/detect PyTorch side)\n")
    stride = int(model.stride.max())
    images, csv, cells_total = [], [",".join(csv_field(c) for c in CSV_COLUMNS)], 0
    fonts = {}
    for file in files:
        t0 = time.perf_counter()
        im = ImageOps.exif_transpose(Image.open(file)).convert("RGB")
        im.load()
        t1 = time.perf_counter()
        x, ratio, pad = letterbox(im, s["imgsz"], stride)
        t2 = time.perf_counter()
        with torch.inference_mode():
            (decoded, _), feats = model(x, taps=list(taps.values()))
            t3 = time.perf_counter()
            det = nms(decoded, conf_thres=s["confThres"], iou_thres=s["iouThres"], max_det=s["maxDet"])[0]
            boxes = det.numpy()
            t4 = time.perf_counter()
            k = det.shape[0]
            if k:
                h, w = x.shape[2], x.shape[3]
                rois = torch.cat([torch.zeros(k, 1), det[:, :4] / torch.tensor([w, h, w, h])], 1)
                wh = (det[:, 2:4] - det[:, 0:2]) / s["imgsz"]
                maps = [x if name == "image" else feats[taps[name]] for name in head_taps]
                size_logits, binary_logits = head(pool_cells(maps, rois, roi_size), wh)
                size_p = size_logits.softmax(1).numpy()
                binary_p = binary_logits.softmax(2).numpy()
            t5 = time.perf_counter()
        # back to original pixels (clipped), attribute values: untimed, as in sladet (cellsOf)
        w0, h0 = im.size
        cells = []
        for i in range(k):
            x1, y1, x2, y2, conf, cls = boxes[i].tolist()
            probs = [size_p[i].tolist()] + [binary_p[i, j].tolist() for j in range(6)]
            cells.append({
                "box": [min(w0, max(0, (x1 - pad[0]) / ratio[0])), min(h0, max(0, (y1 - pad[1]) / ratio[1])),
                        min(w0, max(0, (x2 - pad[0]) / ratio[0])), min(h0, max(0, (y2 - pad[1]) / ratio[1]))],
                "conf": conf, "cls": round(cls), "probs": probs, "values": [int(np.argmax(p)) for p in probs]})
        lw = max(round((w0 + h0) / 2 * 0.003), 2)
        font_size = max(11, lw * 6)
        if font_size not in fonts:
            fonts[font_size] = ImageFont.truetype(FONT, font_size)
        t6 = time.perf_counter()
        encoded = draw(im, cells, names, fonts[font_size], font_size, lw)
        t7 = time.perf_counter()
        stem = os.path.splitext(os.path.basename(file))[0]
        write_atomic(os.path.join(out, stem + ".jpg"), encoded)
        t8 = time.perf_counter()
        entry = {"file": file, "width": w0, "height": h0, "detections": [], "annotated": stem + ".jpg"}
        for c in cells:
            entry["detections"].append({
                "box": [round(v, 2) for v in c["box"]], "class": c["cls"], "name": names[c["cls"]],
                "confidence": round(c["conf"], 6),
                "attributes": {a: {"value": vs[c["values"][i]], "index": c["values"][i],
                                   "probabilities": [round(p, 6) for p in c["probs"][i]]}
                               for i, (a, vs) in enumerate(ATTRIBUTES)}})
            csv.append(",".join(csv_field(v) for v in [
                file, names[c["cls"]], f"{c['conf']:.4f}", *c["values"][1:], *(f"{v:.1f}" for v in c["box"]),
                c["values"][0], *(f"{p:.4f}" for ps in c["probs"] for p in ps)]))
        images.append(entry)
        cells_total += k
        for name, a, b in (("decode", t0, t1), ("letterbox", t1, t2), ("forward", t2, t3), ("nms", t3, t4),
                           ("attributes", t4, t5), ("drawing", t6, t7), ("writing", t7, t8)):
            t[name] += b - a
    t0 = time.perf_counter()
    predictions = {"version": 1, "model": {"backend": "pytorch", "names": list(names), "imgsz": s["imgsz"],
                                           "attributes": [{"name": a, "values": vs} for a, vs in ATTRIBUTES]},
                   "settings": {"confThres": s["confThres"], "iouThres": s["iouThres"], "maxDet": s["maxDet"],
                                "classes": None, "agnostic": False},
                   "images": images, "skipped": []}
    write_atomic(os.path.join(out, "predictions.csv"), "\n".join(csv) + "\n")
    write_atomic(os.path.join(out, "predictions.json"), json.dumps(predictions, indent=1, ensure_ascii=False) + "\n")
    t["writing"] += time.perf_counter() - t0
    return time.perf_counter() - start, t, len(files), cells_total


def main():
    settings_path, scale, out = sys.argv[1], sys.argv[2], sys.argv[3]
    threads = int(os.environ.get("SLADET_THREADS", "1"))
    torch.set_num_threads(threads)
    with open(settings_path) as f:
        s = json.load(f)
    model, head, head_taps, taps, roi_size, names = load(s["weights"][scale]["checkpoint"])
    project = os.path.join(out, "pytorch")
    shutil.rmtree(project, ignore_errors=True)
    run(s["warmup"], os.path.join(project, "warmup"), model, head, head_taps, taps, roi_size, names, s)
    wall, t, n, cells = run(s["source"], os.path.join(project, "timed"), model, head, head_taps, taps, roi_size,
                            names, s)
    stages = {k: v * 1000 / n for k, v in t.items()}
    stages["other"] = wall * 1000 / n - sum(stages.values())
    rss_kib = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1]
    print(json.dumps({"engine": "pytorch", "times": [wall * 1000 / n], "imagesPerSecond": n / wall, "stages": stages,
                      "images": n, "cells": cells, "peakRssMiB": int(rss_kib) / 1024,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
