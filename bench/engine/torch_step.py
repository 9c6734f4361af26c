#!/usr/bin/python3
"""PyTorch side of bench/engine: times forward + backward + SGD step of the conv stack in bench/engine/stack.json.
Prints one JSON line: step times (ms) after warmup and peak RSS. Run by bench/engine/run.ts, never alone."""
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from report import report  # noqa: E402


def conv(c1, c2, k, s):
    return nn.Sequential(nn.Conv2d(c1, c2, k, s, k // 2 if k != 6 else 2, bias=False), nn.BatchNorm2d(c2, 1e-3, 0.03), nn.SiLU())


def main():
    batch, imgsz, warmup, steps = (int(a) for a in sys.argv[1:5])
    torch.set_num_threads(int(os.environ.get("SLADET_THREADS", "1")))
    spec = json.load(open(os.path.join(os.path.dirname(__file__), "stack.json")))
    torch.manual_seed(0)
    layers = [conv(*l) for l in spec["layers"]] + [nn.Conv2d(*spec["head"], 1)]
    net = nn.Sequential(*layers).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.937, nesterov=True, weight_decay=5e-4)
    x = torch.rand(batch, 3, imgsz, imgsz)
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        loss = net(x).pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    report(times)


if __name__ == "__main__":
    main()
