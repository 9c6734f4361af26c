#!/usr/bin/python3
"""Golden fixtures for the models (issue 7). Run as /usr/bin/python3 tools/oracle/models.py. Dev tool only.

Builds YOLOv5 (v6.0 topology) in PyTorch from sladet's own model YAMLs, with stub classes registered under the names
Ultralytics' pickles use (models.yolo.DetectionModel, models.yolo.Detect, models.common.Conv, C3, Bottleneck, SPPF,
Concat), written here from the published architecture. A checkpoint saved from them has YOLOv5's real pickled layout
(module objects, fp16 `model`/`ema`, numpy `best_fitness`, optimizer state, opt dict), so the TS importer reads what it
will meet in the field. Writes to test/fixtures/models/:

  models.safetensors  v5n parity (weights from seeds: sladet's seeded init draws PyTorch's numbers; inputs, eval maps,
                      decoded boxes, taps, fused output, train-mode maps), tiny14 outputs from its checkpoint's EMA,
                      the attribute head's RoI pooling and logits
  tiny14.pt           training-layout checkpoint (model ≠ ema, evolved anchors, class names, optimizer state), nc=14
  tiny80.pt           stripped checkpoint (ema None), nc=80 (the 80 → 14 class transfer test)
  seed_attr.pth       the seed's attribute head (MyCNN) state dict, stored in fp16 to keep the fixture small
"""
import copy
import datetime
import math
import os
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import yaml
from torchvision.ops import roi_align

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "test", "fixtures", "models")
CFG = os.path.join(ROOT, "src", "model", "cfg")
TINY_WIDTH = 0.0625
ROI_SIZE = (24, 30)

# ---- stub modules with Ultralytics' pickled names ----------------------------------------------------------------------
pkg_models = types.ModuleType("models")
mod_common = types.ModuleType("models.common")
mod_yolo = types.ModuleType("models.yolo")
pkg_models.common, pkg_models.yolo = mod_common, mod_yolo
sys.modules.update({"models": pkg_models, "models.common": mod_common, "models.yolo": mod_yolo})


def register(module):
    def wrap(cls):
        cls.__module__ = module.__name__
        setattr(module, cls.__name__, cls)
        return cls
    return wrap


def autopad(k, p=None):
    return k // 2 if p is None else p


@register(mod_common)
class Conv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p), groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU()
        assert act is True

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


@register(mod_common)
class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True, g=1, e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c_, c2, 3, 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


@register(mod_common)
class C3(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c1, c_, 1, 1)
        self.cv3 = Conv(2 * c_, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut, g, e=1.0) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


@register(mod_common)
class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1, 1)
        self.cv2 = Conv(c_ * 4, c2, 1, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


@register(mod_common)
class Concat(nn.Module):
    def __init__(self, dimension=1):
        super().__init__()
        self.d = dimension

    def forward(self, x):
        return torch.cat(x, self.d)


@register(mod_yolo)
class Detect(nn.Module):
    stride = None

    def __init__(self, nc=80, anchors=(), ch=()):
        super().__init__()
        self.nc, self.no, self.nl, self.na = nc, nc + 5, len(anchors), len(anchors[0]) // 2
        self.grid = [torch.zeros(1)] * self.nl
        self.anchor_grid = [torch.zeros(1)] * self.nl
        self.register_buffer("anchors", torch.tensor(anchors).float().view(self.nl, -1, 2))
        self.m = nn.ModuleList(nn.Conv2d(x, self.no * self.na, 1) for x in ch)
        self.inplace = True

    def forward(self, x):
        z = []
        for i in range(self.nl):
            x[i] = self.m[i](x[i])
            bs, _, ny, nx = x[i].shape
            x[i] = x[i].view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if not self.training:
                yv, xv = torch.meshgrid(torch.arange(ny).float(), torch.arange(nx).float(), indexing="ij")
                grid = torch.stack((xv, yv), 2).view(1, 1, ny, nx, 2)
                anchor_grid = (self.anchors[i] * self.stride[i]).view(1, self.na, 1, 1, 2)
                y = x[i].sigmoid()
                xy = (y[..., 0:2] * 2 - 0.5 + grid) * self.stride[i]
                wh = (y[..., 2:4] * 2) ** 2 * anchor_grid
                z.append(torch.cat((xy, wh, y[..., 4:]), -1).view(bs, -1, self.no))
        return x if self.training else (torch.cat(z, 1), x)


def make_divisible(x, d=8):
    return math.ceil(x / d) * d


def parse_model(d, ch):
    anchors, nc, gd, gw = d["anchors"], d["nc"], d["depth_multiple"], d["width_multiple"]
    na = len(anchors[0]) // 2
    no = na * (nc + 5)
    layers, save, c2 = [], [], ch[-1]
    names = {"Conv": Conv, "C3": C3, "SPPF": SPPF, "Bottleneck": Bottleneck, "nn.Upsample": nn.Upsample,
             "Concat": Concat, "Detect": Detect}
    for i, (f, n, m, args) in enumerate(d["backbone"] + d["head"]):
        m = names[m]
        args = [nc if a == "nc" else anchors if a == "anchors" else a for a in args]
        n = max(round(n * gd), 1) if n > 1 else n
        if m in (Conv, C3, SPPF, Bottleneck):
            c1, c2 = ch[f], args[0]
            if c2 != no:
                c2 = make_divisible(c2 * gw)
            args = [c1, c2, *args[1:]]
            if m is C3:
                args.insert(2, n)
                n = 1
        elif m is Concat:
            c2 = sum(ch[x] for x in f)
        elif m is Detect:
            args.append([ch[x] for x in f])
        else:
            c2 = ch[f]
        m_ = nn.Sequential(*(m(*args) for _ in range(n))) if n > 1 else m(*args)
        m_.i, m_.f, m_.type, m_.np = i, f, str(m)[8:-2], sum(x.numel() for x in m_.parameters())
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(m_)
        if i == 0:
            ch = []
        ch.append(c2)
    return nn.Sequential(*layers), sorted(save)


@register(mod_yolo)
class DetectionModel(nn.Module):
    def __init__(self, cfg, ch=3):
        super().__init__()
        self.yaml = copy.deepcopy(cfg)
        self.model, self.save = parse_model(copy.deepcopy(cfg), ch=[ch])
        self.names = [str(i) for i in range(cfg["nc"])]
        self.inplace = True
        m = self.model[-1]
        s = 256
        # the stride probe runs in train mode, as Ultralytics': the BN statistics (PyTorch's default momentum 0.1 until
        # the eps/momentum below are set) take one step toward the zero image's
        self.train()
        m.stride = torch.ones(m.nl)
        with torch.no_grad():
            m.stride = torch.tensor([s / x.shape[-2] for x in self.forward(torch.zeros(1, ch, s, s))[0]])
        m.anchors /= m.stride.view(-1, 1, 1)
        a = m.anchors.prod(-1).mean(-1).view(-1)
        if (a[-1] - a[0]).sign() != (m.stride[-1] - m.stride[0]).sign():
            m.anchors[:] = m.anchors.flip(0)
        self.stride = m.stride
        for mi, st in zip(m.m, m.stride):
            b = mi.bias.view(m.na, -1)
            b.data[:, 4] += math.log(8 / (640 / st) ** 2)
            b.data[:, 5:5 + m.nc] += math.log(0.6 / (m.nc - 0.99999))
            mi.bias = nn.Parameter(b.view(-1), requires_grad=True)
        for mod in self.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.eps, mod.momentum = 1e-3, 0.03

    def _apply(self, fn):
        # like Ultralytics: half()/to() also convert Detect's plain tensor attributes
        self = super()._apply(fn)
        m = self.model[-1]
        m.stride = fn(m.stride)
        m.grid = list(map(fn, m.grid))
        m.anchor_grid = list(map(fn, m.anchor_grid))
        return self

    def forward(self, x, taps=()):
        y, feats = [], {}
        for m in self.model:
            if m.f != -1:
                x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
            x = m(x)
            y.append(x)
        return x, {i: y[i] for i in taps}


class MyCNN(nn.Module):
    """The seed's attribute head (method.md §3.3)."""

    def __init__(self, num_classes=12, dropout_prob=0.5, in_channels=480):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 128, 3, padding=1)
        self.conv2 = nn.Conv2d(128, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
        self.act = nn.LeakyReLU(0.01)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(576, 1024)
        self.fc2 = nn.Linear(1024, 256)
        self.fc3 = nn.Linear(256, num_classes)
        self.dropout1 = nn.Dropout(dropout_prob)
        self.dropout2 = nn.Dropout(dropout_prob)

    def forward(self, x):
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        x = self.pool(self.act(self.conv3(x)))
        x = self.dropout1(x.flatten(1))
        x = self.dropout2(self.act(self.fc1(x)))
        x = self.dropout2(self.act(self.fc2(x)))
        return self.fc3(x)


def pool_rois(taps, boxes):
    """The seed's RoI pooling with the square-map bug fixed: normalised xyxy · [fW, fH, fW, fH], truncated to whole
    cells, at least 1×1, roi_align(24×30, spatial_scale 1, sampling_ratio −1, aligned False) per tap, concatenated."""
    out = []
    for b in boxes.tolist():
        img, xyxy = int(b[0]), b[1:]
        parts = []
        for f in taps:
            h, w = f.shape[2], f.shape[3]
            x1, y1, x2, y2 = (int(v * s) for v, s in zip(xyxy, (w, h, w, h)))
            x2, y2 = max(x2, x1 + 1), max(y2, y1 + 1)
            roi = torch.tensor([[0, x1, y1, x2, y2]], dtype=torch.float32)
            parts.append(roi_align(f[img][None], roi, output_size=ROI_SIZE, spatial_scale=1, sampling_ratio=-1,
                                   aligned=False))
        out.append(torch.cat(parts, 1))
    return torch.cat(out, 0)


def load_cfg(scale, **overrides):
    with open(os.path.join(CFG, f"yolov5{scale}.yaml")) as f:
        cfg = yaml.safe_load(f)
    cfg.update(overrides)
    return cfg


def randomise_bn(model, seed):
    """Non-trivial BatchNorm parameters and statistics, drawn in state-dict order (sladet draws the same)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for _, m in model.named_modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)


def fuse(model):
    fused = copy.deepcopy(model)
    for m in fused.modules():
        if isinstance(m, Conv):
            c, bn = m.conv, m.bn
            conv = nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding, groups=c.groups,
                             bias=True)
            w_bn = torch.diag(bn.weight.div(torch.sqrt(bn.eps + bn.running_var)))
            conv.weight.data.copy_(torch.mm(w_bn, c.weight.view(c.out_channels, -1)).view(conv.weight.shape))
            conv.bias.data.copy_(bn.bias - bn.weight.mul(bn.running_mean).div(torch.sqrt(bn.running_var + bn.eps)))
            m.conv, m.bn = conv, nn.Identity()
    return fused


def checkpoint(model, ema, nc, names):
    for m in (model, ema):
        if m is not None:
            m.names = names
    opt_state = torch.optim.SGD([p for p in model.parameters()][:3], lr=0.01, momentum=0.937, nesterov=True)
    for p in [p for p in model.parameters()][:3]:
        p.grad = torch.ones_like(p)
    opt_state.step()
    return {
        "epoch": 3,
        "best_fitness": np.array([0.4321]),
        "model": copy.deepcopy(model).half(),
        "ema": None if ema is None else copy.deepcopy(ema).half(),
        "updates": 120,
        "optimizer": opt_state.state_dict(),
        "opt": {"weights": "yolov5x.pt", "imgsz": 640, "hyp": {"lr0": 0.01, "anchor_t": 4.0}, "rect": False,
                "cfg": "", "noautoanchor": False, "epochs": 30, "save_dir": "runs/train/exp", "seed": 0},
        "git": {"url": "https://example.invalid/repo", "branch": "main", "commit": "0000000"},
        "date": datetime.datetime(2024, 5, 1, 12, 0, 0).isoformat(),
    }


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    out = {}

    # 1. v5n parity: weights from seeds (sladet's seeded init draws PyTorch's numbers in the same order)
    torch.manual_seed(0)
    v5n = DetectionModel(load_cfg("n", nc=14))
    randomise_bn(v5n, 1)
    out["v5n/param_sums"] = torch.stack([v.float().sum() for v in v5n.state_dict().values()])
    torch.manual_seed(2)
    x = torch.rand(2, 3, 64, 96)
    out["v5n/input"] = x
    v5n.eval()
    with torch.no_grad():
        (decoded, maps), taps = v5n(x.clone(), taps=(1, 4, 17))
        for i, m in enumerate(maps):
            out[f"v5n/eval/map{i}"] = m
        out["v5n/eval/decoded"] = decoded
        out["v5n/eval/p2"], out["v5n/eval/p3"], out["v5n/eval/neckP3"] = taps[1], taps[4], taps[17]
        # RoI pooling on non-square maps (64×96 input): the seed's [fH, fW] mix-up would show here
        boxes = torch.tensor([[0, 0.05, 0.10, 0.40, 0.90], [1, 0.55, 0.20, 0.95, 0.45]])
        out["v5n/attr/boxes"] = boxes
        out["v5n/attr/pooled"] = pool_rois([taps[1], taps[4]], boxes)
        (fdecoded, _), _ = fuse(v5n)(x.clone())
        out["v5n/fused/decoded"] = fdecoded
    v5n.train()
    with torch.no_grad():
        maps, _ = v5n(x.clone())
    for i, m in enumerate(maps):
        out[f"v5n/train/map{i}"] = m
    out["v5n/train/running_mean0"] = v5n.model[0].bn.running_mean.clone()

    # 2. tiny14.pt: training layout, ema ≠ model, evolved anchors, names; expected outputs from the EMA (fp16 values)
    tiny_cfg = load_cfg("n", nc=14, width_multiple=TINY_WIDTH)
    torch.manual_seed(3)
    model = DetectionModel(tiny_cfg)
    ema = DetectionModel(tiny_cfg)
    randomise_bn(model, 4)
    randomise_bn(ema, 5)
    with torch.no_grad():
        ema.model[-1].anchors.mul_(torch.tensor([1.1, 0.9]))  # as if AutoAnchor evolved them
    names = ["None", "Neutrophil", "Eosinophil", "Basophil", "Lymphocyte", "Monocyte", "Metamyelocyte", "Myelocyte",
             "Promyelocyte", "Blast", "Reactive lymphocyte", "Plasma cell", "Large granular lymphocyte", "Other"]
    ckpt = checkpoint(model, ema, 14, names)
    torch.save(ckpt, os.path.join(OUT, "tiny14.pt"))
    ref = ckpt["ema"].float().eval()
    torch.manual_seed(6)
    x = torch.rand(1, 3, 64, 64)
    out["tiny14/input"] = x
    with torch.no_grad():
        (decoded, maps), taps = ref(x.clone(), taps=(1, 4))
    out["tiny14/decoded"] = decoded
    for i, m in enumerate(maps):
        out[f"tiny14/map{i}"] = m
    out["tiny14/anchors"] = ref.model[-1].anchors

    # 3. attribute head on tiny14's taps: the seed's MyCNN, its state dict as the seed saves it (fp16 here)
    boxes = torch.tensor([[0, 0.10, 0.20, 0.45, 0.60], [0, 0.50, 0.05, 0.98, 0.30], [0, 0.30, 0.31, 0.32, 0.33]])
    out["attr/boxes"] = boxes
    pooled = pool_rois([taps[1], taps[4]], boxes)
    out["attr/pooled"] = pooled
    torch.manual_seed(7)
    head = MyCNN(12, 0.5, in_channels=pooled.shape[1]).half().float().eval()
    with torch.no_grad():
        out["attr/logits"] = head(pooled)
    torch.save(head.half().state_dict(), os.path.join(OUT, "seed_attr.pth"))

    # 4. tiny80.pt: an 80-class COCO-style stripped checkpoint (ema None)
    torch.manual_seed(8)
    coco = DetectionModel(load_cfg("n", nc=80, width_multiple=TINY_WIDTH))
    stripped = checkpoint(coco, None, 80, [f"class{i}" for i in range(80)])
    stripped.update(optimizer=None, updates=None, epoch=-1)
    torch.save(stripped, os.path.join(OUT, "tiny80.pt"))

    save(os.path.join(OUT, "models.safetensors"), {k: v.contiguous() for k, v in out.items()})
    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")


if __name__ == "__main__":
    main()
