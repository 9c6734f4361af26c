#!/usr/bin/python3
"""Golden fixtures for test/torch/vision.test.ts: torchvision.ops.roi_align (forward and input gradient), nms,
batched_nms and box_iou on random boxes and edge cases, written to test/fixtures/vision.safetensors. The case list
(names, kinds, arguments) goes into the file's metadata under "cases" (JSON), so the file is self-describing.
Run as /usr/bin/python3 tools/oracle/vision.py (Debian python3-torch 1.13.1 + python3-torchvision 0.14.1). Dev tool
only."""
import json
import os
import sys
import zlib

import torch
import torchvision
from torchvision.ops import batched_nms, box_iou, nms, roi_align

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
THREADS = 2


def gen(name):
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def random_boxes(g, n, w, h, max_size, dtype=torch.float32):
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * torch.tensor([w, h], dtype=torch.float64)
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * max_size
    return torch.cat([xy, xy + wh], 1).to(dtype)


# Edge-case RoIs on a 12 (wide) × 10 (high) map, rows of (x1, y1, x2, y2); image index added per case.
EDGE_BOXES = [
    [2.3, 1.7, 8.9, 7.2],  # ordinary, fractional
    [-3.0, -2.0, 4.0, 3.0],  # partly outside (top-left)
    [9.0, 7.0, 15.0, 13.0],  # partly outside (bottom-right)
    [-8.0, -9.0, -2.5, -1.5],  # fully outside, beyond the one-pixel band
    [12.5, 10.5, 20.0, 18.0],  # fully outside on the far side
    [-1.0, -1.0, 0.0, 0.0],  # inside the one-pixel band only
    [0.0, 0.0, 12.0, 10.0],  # the whole map, edges on the border
    [11.0, 9.0, 12.0, 10.0],  # last pixel, on the border
    [5.0, 4.0, 5.0, 8.0],  # zero width
    [3.0, 6.0, 9.0, 6.0],  # zero height
    [4.0, 4.0, 4.0, 4.0],  # a point
    [7.0, 6.0, 3.0, 2.0],  # inverted
    [-20.0, -20.0, 40.0, 40.0],  # much larger than the map
    [0.25, 0.25, 1.75, 11.0],  # thin and tall, crossing the bottom edge
]


def roi_cases():
    cases = []

    def add(name, input_shape, rois, size, scale=1.0, sampling=-1, aligned=False, dtype=torch.float32, as_list=None):
        size = size if isinstance(size, int) else list(size)
        cases.append(dict(name=name, kind="roi_align", input_shape=input_shape, rois=rois, output_size=size,
                          spatial_scale=scale, sampling_ratio=sampling, aligned=aligned, dtype=str(dtype)[6:],
                          as_list=as_list))

    def edge(images):
        return [[float(i % images)] + b for i, b in enumerate(EDGE_BOXES)]

    # The seed's attribute head: integer boxes (get_fixed_xyxy), output (24, 30), defaults.
    add("seed_24x30", [2, 1, 20, 24], [[0, 3, 2, 9, 11], [1, 0, 0, 1, 1], [0, 15, 12, 24, 20], [1, 5, 7, 18, 9]],
        (24, 30))
    # The seed's similarity loss: (4, 4) on a deep map, several images.
    add("sim_4x4", [3, 2, 16, 16], "random:9:16:16:12", (4, 4))
    add("edge_legacy", [2, 3, 10, 12], edge(2), (5, 3))
    add("edge_aligned", [2, 3, 10, 12], edge(2), (5, 3), aligned=True)
    add("edge_sampling2", [2, 3, 10, 12], edge(2), (3, 4), sampling=2)
    add("edge_sampling0_aligned", [2, 3, 10, 12], edge(2), (3, 4), sampling=0, aligned=True)
    add("edge_sampling1", [1, 2, 10, 12], edge(1), (2, 2), sampling=1)
    add("edge_sampling3_aligned", [1, 2, 10, 12], edge(1), (6, 6), sampling=3, aligned=True)
    add("scale_quarter", [2, 3, 8, 10], "random:7:40:32:30", (7, 7), scale=0.25, sampling=2)
    add("scale_quarter_aligned", [2, 3, 8, 10], "random:7:40:32:30", (3, 5), scale=0.25, aligned=True)
    add("large_adaptive_grid", [1, 1, 32, 32], [[0, 1.5, 2.5, 31.0, 29.0]], (2, 3))
    add("square_int_size", [1, 3, 9, 9], "random:4:9:9:6", 3)
    add("float64", [2, 2, 10, 12], edge(2), (4, 5), dtype=torch.float64)
    add("float64_aligned", [2, 2, 10, 12], edge(2), (4, 5), aligned=True, dtype=torch.float64)
    add("no_rois", [2, 3, 6, 6], [], (4, 4))
    add("box_list", [3, 2, 12, 12], None, (4, 4), as_list=[3, 0, 2])
    return cases


def run_roi(case, out, meta):
    name = case["name"]
    g = gen(name)
    dtype = getattr(torch, case["dtype"])
    x = torch.randn(case["input_shape"], generator=g, dtype=dtype)
    n, _, h, w = case["input_shape"]
    rois = case["rois"]
    if case["as_list"] is not None:
        boxes = [random_boxes(g, k, w, h, 8, dtype) for k in case["as_list"]]
        for i, b in enumerate(boxes):
            out[f"{name}/boxes/{i}"] = b
        arg = boxes
    else:
        if isinstance(rois, str):  # random:K:W:H:max_size (box coordinates before spatial_scale)
            _, k, bw, bh, size = rois.split(":")
            b = random_boxes(g, int(k), float(bw), float(bh), float(size), dtype)
            idx = torch.randint(0, n, (int(k), 1), generator=g).to(dtype)
            arg = torch.cat([idx, b], 1)
        else:
            arg = torch.tensor(rois, dtype=dtype).reshape(-1, 5)
        out[f"{name}/rois"] = arg
    out[f"{name}/input"] = x.clone()
    x.requires_grad_(True)
    y = roi_align(x, arg, case["output_size"], case["spatial_scale"], case["sampling_ratio"], case["aligned"])
    gout = torch.randn(y.shape, generator=g, dtype=dtype)
    (y * gout).sum().backward()
    out[f"{name}/out"] = y.detach()
    out[f"{name}/gout"] = gout
    out[f"{name}/grad"] = x.grad
    meta.append({k: v for k, v in case.items() if k not in ("rois", "input_shape")})


def nms_cases(out, meta):
    def add(name, kind, boxes, scores, thr, idxs=None, keep=None):
        out[f"{name}/boxes"] = boxes
        out[f"{name}/scores"] = scores
        if idxs is not None:
            out[f"{name}/idxs"] = idxs
        if kind == "nms":
            result = nms(boxes, scores, thr)
        else:
            result = batched_nms(boxes, scores, idxs, thr)
        out[f"{name}/keep"] = result
        meta.append(dict(name=name, kind=kind, iou_threshold=thr))

    g = gen("nms_random")
    b = random_boxes(g, 200, 100, 80, 30)
    add("nms_random", "nms", b, torch.rand(200, generator=g), 0.5)
    g = gen("nms_random_low")
    b = random_boxes(g, 150, 60, 60, 25)
    add("nms_random_thr02", "nms", b, torch.rand(150, generator=g), 0.2)
    # Exact ties: few distinct score values among heavily overlapping boxes, so tie order decides what survives.
    g = gen("nms_ties")
    b = random_boxes(g, 60, 30, 30, 20)
    s = torch.tensor([0.5, 0.7, 0.9])[torch.randint(0, 3, (60,), generator=g)]
    add("nms_ties", "nms", b, s, 0.3)
    # All scores equal and no overlaps: the output order is the tie order itself.
    b = torch.tensor([[i * 3.0, 0.0, i * 3.0 + 2.0, 2.0] for i in range(40)])
    add("nms_all_tied_disjoint", "nms", b, torch.full((40,), 0.25), 0.5)
    # Identical boxes (IoU 1), tied and untied.
    b = torch.tensor([[10.0, 10.0, 20.0, 30.0]] * 8 + [[40.0, 40.0, 50.0, 50.0]] * 4)
    add("nms_identical_tied", "nms", b, torch.tensor([0.6] * 8 + [0.3, 0.3, 0.9, 0.9]), 0.5)
    add("nms_identical_untied", "nms", b, torch.linspace(0.1, 0.9, 12).flip(0).roll(5), 0.99)
    # IoU exactly at the threshold (exact in binary): 0.5 and 0.25. Kept at the threshold, dropped just below it.
    b = torch.tensor([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 2.0], [10.0, 10.0, 14.0, 14.0], [10.0, 10.0, 11.0, 14.0]])
    s = torch.tensor([0.9, 0.8, 0.7, 0.6])
    add("nms_iou_at_threshold", "nms", b, s, 0.5)
    add("nms_iou_above_threshold", "nms", b, s, 0.4999)
    add("nms_iou_quarter_at", "nms", b, s, 0.25)
    # Degenerate boxes: zero area (NaN IoU with each other), inverted, negative coordinates.
    b = torch.tensor([[5.0, 5.0, 5.0, 9.0], [5.0, 5.0, 5.0, 9.0], [3.0, 3.0, 3.0, 3.0], [8.0, 8.0, 2.0, 2.0],
                      [-5.0, -5.0, 1.0, 1.0], [-4.0, -4.0, 1.0, 1.0], [2.0, 2.0, 8.0, 8.0]])
    add("nms_degenerate", "nms", b, torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]), 0.3)
    add("nms_empty", "nms", torch.zeros(0, 4), torch.zeros(0), 0.5)
    g = gen("nms_float64")
    b = random_boxes(g, 80, 50, 50, 20, torch.float64)
    add("nms_float64", "nms", b, torch.rand(80, generator=g, dtype=torch.float64), 0.45)
    g = gen("nms_thr_extremes")
    b = random_boxes(g, 50, 40, 40, 20)
    s = torch.rand(50, generator=g)
    add("nms_thr_0", "nms", b, s, 0.0)
    add("nms_thr_1", "nms", b, s, 1.0)

    # batched: small inputs use torchvision's coordinate offset, > 1000 boxes on the CPU one NMS per class.
    g = gen("batched_small")
    b = random_boxes(g, 300, 100, 100, 30)
    add("batched_small", "batched_nms", b, torch.rand(300, generator=g), 0.5,
        torch.randint(0, 5, (300,), generator=g))
    g = gen("batched_ties")
    b = random_boxes(g, 80, 30, 30, 20)
    s = torch.tensor([0.4, 0.8])[torch.randint(0, 2, (80,), generator=g)]
    add("batched_ties", "batched_nms", b, s, 0.3, torch.randint(0, 3, (80,), generator=g))
    b = torch.tensor([[0.0, 0.0, 10.0, 10.0]] * 6)
    add("batched_identical_classes", "batched_nms", b, torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), 0.5,
        torch.tensor([0, 1, 0, 2, 1, 2]))
    g = gen("batched_large")
    b = random_boxes(g, 1100, 200, 200, 25)
    add("batched_large", "batched_nms", b, torch.rand(1100, generator=g), 0.4,
        torch.randint(0, 4, (1100,), generator=g))
    add("batched_empty", "batched_nms", torch.zeros(0, 4), torch.zeros(0), 0.5, torch.zeros(0, dtype=torch.int64))

    g = gen("box_iou")
    a = random_boxes(g, 6, 20, 20, 10)
    a[0] = torch.tensor([3.0, 3.0, 3.0, 7.0])  # zero area: NaN against the zero-area box below
    c = random_boxes(g, 5, 20, 20, 10)
    c[1] = torch.tensor([3.0, 3.0, 3.0, 7.0])
    out["box_iou/a"] = a
    out["box_iou/b"] = c
    out["box_iou/iou"] = box_iou(a, c)
    meta.append(dict(name="box_iou", kind="box_iou"))


def main():
    torch.set_num_threads(THREADS)
    out, meta = {}, []
    for case in roi_cases():
        run_roi(case, out, meta)
    nms_cases(out, meta)
    path = os.path.join(ROOT, "test", "fixtures", "vision.safetensors")
    save(path, out, {"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": THREADS,
                     "cases": json.dumps(meta)})
    print(f"wrote {len(meta)} cases, {len(out)} tensors, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
