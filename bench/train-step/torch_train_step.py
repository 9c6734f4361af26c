#!/usr/bin/python3
"""PyTorch side of bench/train-step: times full training steps (forward, YOLOv5's ComputeLoss as written in
tools/oracle/yolo_loss.py, backward, clip_grad_norm_ 10, SGD Nesterov over YOLOv5's three parameter groups) of YOLOv5
built by tools/oracle/models.py from the same YAML, on a fixed random batch with the targets and loss gains that
run.ts wrote. Prints one JSON line: step times (ms) after warmup and peak RSS. Run by bench/train-step/run.ts, never
alone."""
import importlib.util
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from report import report  # noqa: E402

ORACLE = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "oracle")
sys.path.insert(0, ORACLE)


def load(name, file):
    # loaded under other names: the oracle registers stub packages called "models" itself
    spec = importlib.util.spec_from_file_location(name, os.path.join(ORACLE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


oracle = load("yolo_oracle", "models.py")
oracle_loss = load("yolo_oracle_loss", "yolo_loss.py")


def parameter_groups(model):
    """YOLOv5's smart_optimizer split: biases, weights (decay), normalisation weights."""
    biases, weights, norm = [], [], []
    for m in model.modules():
        for name, p in m.named_parameters(recurse=False):
            if name == "bias":
                biases.append(p)
            elif isinstance(m, nn.BatchNorm2d):
                norm.append(p)
            else:
                weights.append(p)
    return biases, weights, norm


def main():
    scale = sys.argv[1]
    batch, imgsz, warmup, iters = (int(a) for a in sys.argv[2:6])
    spec = json.load(open(sys.argv[6]))
    torch.set_num_threads(int(os.environ.get("SLADET_THREADS", "1")))
    torch.manual_seed(0)
    model = oracle.DetectionModel(oracle.load_cfg(scale, nc=spec["nc"])).train()
    detect = model.model[-1]
    anchors, strides = detect.anchors.clone(), detect.stride.tolist()
    biases, weights, norm = parameter_groups(model)
    opt = torch.optim.SGD(
        [{"params": biases}, {"params": weights, "weight_decay": spec["weightDecay"]}, {"params": norm}],
        lr=spec["lr"], momentum=spec["momentum"], nesterov=True)
    images = torch.rand(batch, 3, imgsz, imgsz)
    targets = torch.tensor(spec["targets"], dtype=torch.float32)
    params = list(model.parameters())
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        maps, _ = model(images)
        loss, _ = oracle_loss.compute_loss(maps, targets, anchors, strides, spec["hyp"], spec["nc"])
        if not math.isfinite(loss.item()):
            raise SystemExit(f"non-finite loss at step {i + 1}")
        loss.backward()
        norm_value = torch.nn.utils.clip_grad_norm_(params, 10.0)
        if not math.isfinite(norm_value.item()):
            raise SystemExit(f"non-finite gradient norm at step {i + 1}")
        opt.step()
        opt.zero_grad(set_to_none=True)
        del maps, loss
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    report(times)


if __name__ == "__main__":
    main()
