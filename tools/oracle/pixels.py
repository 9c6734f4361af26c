#!/usr/bin/python3
"""Golden fixture for sladet's image addon: OpenCV's cv2.resize (INTER_LINEAR, INTER_AREA) of 8-bit RGB images and
YOLOv5 v7.0's augment_hsv with fixed gains (behaviour re-stated here from its definition: cvtColor to 8-bit HSV, three
lookup tables, cvtColor back), as Debian's python3-opencv computes them.

Run: /usr/bin/python3 tools/oracle/pixels.py  (writes test/fixtures/pixels.safetensors)

Images are random noise plus smooth gradients (so both rounding and interpolation show). Cases cover enlarging and
shrinking, integer and non-integer factors, odd sizes, one-pixel inputs and outputs, one axis up and the other down,
and YOLOv5's own sizes (load_image to 640 or 128, letterbox).
"""
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "pixels.safetensors")

# (source w, h) -> list of (destination w, h)
RESIZE_CASES = [
    ((37, 23), [(74, 46), (111, 69), (18, 11), (12, 7), (50, 31), (20, 40), (1, 1), (37, 1), (1, 23), (36, 22)]),
    ((64, 48), [(32, 24), (16, 12), (21, 16), (80, 60), (64, 24), (32, 48), (40, 30), (63, 47), (65, 49)]),
    ((1, 1), [(3, 5), (1, 4)]),
    ((1, 9), [(4, 3), (1, 2), (2, 18)]),
    ((97, 77), [(128, 101), (48, 38), (32, 25), (13, 10), (97, 38)]),
    ((6, 6), [(3, 3), (2, 2), (4, 4), (9, 9), (6, 3)]),
]
# HSV rows are 64 pixels wide: OpenCV converts the last (width mod 4·SIMD lanes) pixels of a row with its scalar code,
# which rounds where its SIMD code truncates; 64 leaves no such tail for any vector width (see native/image/hsv.cc).
HSV_WIDTH = 64
HSV_SIZE = (64, 34)
HSV_GAINS = [(1.0, 1.0, 1.0), (1.013, 1.35, 0.71), (0.985, 0.4, 1.4), (1.5, 1.7, 0.3), (0.5, 0.0, 1.0), (1.2, 1.0, 1.0)]


def image(w, h, rng):
    """Random RGB noise over a gradient, with saturated and grey patches (hue edge cases)."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / max(w - 1, 1), yy * 255 / max(h - 1, 1), (xx + yy) * 127 / max(w + h - 2, 1)], -1)
    im = np.clip(base + rng.integers(-60, 61, (h, w, 3)), 0, 255).astype(np.uint8)
    if w >= 4 and h >= 4:
        im[: h // 4, : w // 4] = [255, 0, 0]
        im[-h // 4 :, -w // 4 :] = [128, 128, 128]
    return im


def augment_hsv_fixed(rgb, gains):
    """augment_hsv with the gains given instead of drawn (RGB in and out; 8-bit HSV, hue 0..179)."""
    hue, sat, val = cv2.split(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV))
    x = np.arange(0, 256, dtype=np.float64)
    lut_hue = ((x * gains[0]) % 180).astype(np.uint8)
    lut_sat = np.clip(x * gains[1], 0, 255).astype(np.uint8)
    lut_val = np.clip(x * gains[2], 0, 255).astype(np.uint8)
    hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def main():
    rng = np.random.default_rng(23)
    tensors = {}
    for (w, h), targets in RESIZE_CASES:
        src = image(w, h, rng)
        tensors[f"src/{w}x{h}"] = torch.from_numpy(src)
        for dw, dh in targets:
            for name, interp in (("linear", cv2.INTER_LINEAR), ("area", cv2.INTER_AREA)):
                out = cv2.resize(src, (dw, dh), interpolation=interp)
                tensors[f"{name}/{w}x{h}/{dw}x{dh}"] = torch.from_numpy(np.ascontiguousarray(out.reshape(dh, dw, 3)))
    src = image(*HSV_SIZE, rng)
    # the conversions' branches and edges: every combination of 8 levels per channel (greys, saturated, near-equal
    # maxima), plus noise
    levels = np.array([0, 1, 2, 100, 101, 128, 254, 255], dtype=np.uint8)
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    hsv_src = np.concatenate([src.reshape(-1, 3), cube, rng.integers(0, 256, (2048, 3), dtype=np.uint8)])
    hsv_src = np.ascontiguousarray(hsv_src.reshape(-1, HSV_WIDTH, 3))
    tensors["hsv/src"] = torch.from_numpy(hsv_src)
    for k, g in enumerate(HSV_GAINS):
        tensors[f"hsv/{k}"] = torch.from_numpy(augment_hsv_fixed(hsv_src, g))
    meta = {"opencv": cv2.__version__, "hsv_gains": repr(HSV_GAINS)}
    save(OUT, tensors, meta)
    print(f"wrote {OUT}: {len(tensors)} tensors, OpenCV {cv2.__version__}")


if __name__ == "__main__":
    main()
