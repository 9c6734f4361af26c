#!/usr/bin/python3
"""Reference for YOLOv5's non_max_suppression (test/fixtures/nms.safetensors), written from its definition on
torchvision.ops.nms: conf = obj × cls, class offsets of 7680 (or agnostic), multi-label, class filter, max_det.
Dev tool only: /usr/bin/python3 tools/oracle/nms.py."""
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def xywh2xyxy(x):
    return torch.cat((x[:, :2] - x[:, 2:4] / 2, x[:, :2] + x[:, 2:4] / 2), 1)


def nms(pred, conf_thres=0.25, iou_thres=0.45, classes=None, agnostic=False, multi_label=False, max_det=300):
    nc = pred.shape[2] - 5
    multi_label &= nc > 1
    out = []
    for x in pred:
        x = x[x[:, 4] > conf_thres]
        if not x.shape[0]:
            out.append(torch.zeros(0, 6))
            continue
        scores = x[:, 5:] * x[:, 4:5]
        box = xywh2xyxy(x[:, :4])
        if multi_label:
            i, j = (scores > conf_thres).nonzero(as_tuple=False).T
            x = torch.cat((box[i], scores[i, j, None], j[:, None].float()), 1)
        else:
            conf, j = scores.max(1, keepdim=True)
            x = torch.cat((box, conf, j.float()), 1)[conf.view(-1) > conf_thres]
        if classes is not None:
            x = x[(x[:, 5:6] == torch.tensor(classes)).any(1)]
        if not x.shape[0]:
            out.append(torch.zeros(0, 6))
            continue
        x = x[x[:, 4].argsort(descending=True)[:30000]]
        c = x[:, 5:6] * (0 if agnostic else 7680)
        i = torchvision.ops.nms(x[:, :4] + c, x[:, 4], iou_thres)[:max_det]
        out.append(x[i])
    return out


CASES = {
    "default": {},
    "val_multilabel": {"conf_thres": 0.001, "iou_thres": 0.6, "multi_label": True},
    "agnostic": {"agnostic": True, "iou_thres": 0.3},
    "classes": {"classes": [0, 2]},
    "max_det": {"max_det": 5, "conf_thres": 0.1},
}


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    n, nc = 400, 3
    xy = torch.rand(2, n, 2) * 200
    xy[:, n // 2 :] = xy[:, : n // 2] + torch.randn(2, n // 2, 2) * 4  # overlapping pairs
    wh = torch.rand(2, n, 2) * 40 + 8
    pred = torch.cat((xy, wh, torch.rand(2, n, 1), torch.rand(2, n, nc)), 2)
    out = {"pred": pred}
    for name, kw in CASES.items():
        for b, det in enumerate(nms(pred, **kw)):
            out[f"{name}/{b}"] = det
    path = os.path.join(ROOT, "test", "fixtures", "nms.safetensors")
    save(path, out, {"torch": torch.__version__, "torchvision": torchvision.__version__})
    print(f"wrote {len(out)} tensors, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
