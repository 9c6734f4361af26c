#!/usr/bin/python3
"""PyTorch side of bench/infer: batch-1 eager inference (eval mode, unfused, decode included) of YOLOv5 built by the
oracle's PyTorch implementation (tools/oracle/models.py) from the same YAML. Prints one JSON line: forward times (ms)
after warmup and peak RSS. Run by bench/infer/run.ts, never alone."""
import importlib.util
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from report import report  # noqa: E402

ORACLE = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "oracle")
sys.path.insert(0, ORACLE)
# loaded under another name: the oracle registers stub packages called "models" itself
_spec = importlib.util.spec_from_file_location("yolo_oracle", os.path.join(ORACLE, "models.py"))
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)
DetectionModel, load_cfg = oracle.DetectionModel, oracle.load_cfg


def main():
    scale, imgsz, warmup, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(int(os.environ.get("SLADET_THREADS", "1")))
    torch.manual_seed(0)
    model = DetectionModel(load_cfg(scale, nc=80)).eval()
    x = torch.rand(1, 3, imgsz, imgsz)
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        with torch.inference_mode():
            (decoded, _), _ = model(x)
            decoded.sum().item()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    report(times)


if __name__ == "__main__":
    main()
