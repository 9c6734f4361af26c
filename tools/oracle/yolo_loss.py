#!/usr/bin/python3
"""Reference detection loss for the parity test (test/fixtures/yolo-loss.safetensors): YOLOv5's ComputeLoss
(build_targets with anchor_t ratio matching and two neighbouring cells, CIoU box loss, IoU-valued objectness targets,
class BCE with label smoothing and pos_weight, focal loss when fl_gamma > 0, level balance) written here from its
published definition, plus sladet's region-masked variant (design.md §7.2). Dev tool only: /usr/bin/python3."""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def ciou(b1, b2, eps=1e-7):
    """Complete IoU of boxes in xywh, elementwise over rows."""
    x1, y1, w1, h1 = b1.unbind(-1)
    x2, y2, w2, h2 = b2.unbind(-1)
    b1x1, b1x2, b1y1, b1y2 = x1 - w1 / 2, x1 + w1 / 2, y1 - h1 / 2, y1 + h1 / 2
    b2x1, b2x2, b2y1, b2y2 = x2 - w2 / 2, x2 + w2 / 2, y2 - h2 / 2, y2 + h2 / 2
    inter = (torch.min(b1x2, b2x2) - torch.max(b1x1, b2x1)).clamp(0) * (torch.min(b1y2, b2y2) - torch.max(b1y1, b2y1)).clamp(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    cw = torch.max(b1x2, b2x2) - torch.min(b1x1, b2x1)
    ch = torch.max(b1y2, b2y2) - torch.min(b1y1, b2y1)
    c2 = cw**2 + ch**2 + eps
    rho2 = ((b2x1 + b2x2 - b1x1 - b1x2) ** 2 + (b2y1 + b2y2 - b1y1 - b1y2) ** 2) / 4
    v = (4 / math.pi**2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)).pow(2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


def bce(pred, true, pos_weight, gamma, alpha=0.25, reduction="mean"):
    loss = F.binary_cross_entropy_with_logits(pred, true, pos_weight=pos_weight, reduction="none")
    if gamma > 0:
        p = pred.sigmoid()
        p_t = true * p + (1 - true) * (1 - p)
        loss = loss * (true * alpha + (1 - true) * (1 - alpha)) * (1.0 - p_t) ** gamma
    return loss.mean() if reduction == "mean" else loss


def build_targets(shapes, targets, anchors, anchor_t):
    na, nt = anchors.shape[1], targets.shape[0]
    tcls, tbox, indices, anch = [], [], [], []
    gain = torch.ones(7)
    ai = torch.arange(na).float().view(na, 1).repeat(1, nt)
    targets = torch.cat((targets.repeat(na, 1, 1), ai[..., None]), 2)
    g = 0.5
    off = torch.tensor([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]]).float() * g
    for i, shape in enumerate(shapes):
        anc = anchors[i]
        gain[2:6] = torch.tensor(shape)[[3, 2, 3, 2]].float()
        t = targets * gain
        if nt:
            r = t[..., 4:6] / anc[:, None]
            j = torch.max(r, 1 / r).max(2)[0] < anchor_t
            t = t[j]
            gxy = t[:, 2:4]
            gxi = gain[[2, 3]] - gxy
            j, k = ((gxy % 1 < g) & (gxy > 1)).T
            l, m = ((gxi % 1 < g) & (gxi > 1)).T
            j = torch.stack((torch.ones_like(j), j, k, l, m))
            t = t.repeat((5, 1, 1))[j]
            offsets = (torch.zeros_like(gxy)[None] + off[:, None])[j]
        else:
            t = targets[0]
            offsets = 0
        bc, gxy, gwh, a = t.split((2, 2, 2, 1), 1)
        a, (b, c) = a.long().view(-1), bc.long().T
        gij = (gxy - offsets).long()
        gi = gij[:, 0].clamp(0, shape[3] - 1)
        gj = gij[:, 1].clamp(0, shape[2] - 1)
        gij = torch.stack((gi, gj), 1)
        indices.append((b, a, gj, gi))
        tbox.append(torch.cat((gxy - gij, gwh), 1))
        anch.append(anc[a])
        tcls.append(c)
    return tcls, tbox, indices, anch


def compute_loss(p, targets, anchors, strides, hyp, nc, region_mask=None):
    dev = p[0].device
    cp, cn = 1.0 - 0.5 * hyp["label_smoothing"], 0.5 * hyp["label_smoothing"]
    balance = [4.0, 1.0, 0.4] if len(p) == 3 else [4.0, 1.0, 0.25, 0.06, 0.02]
    cls_pw, obj_pw = torch.tensor([hyp["cls_pw"]]), torch.tensor([hyp["obj_pw"]])
    gamma = hyp["fl_gamma"]
    cell_masks = None
    if region_mask is not None:
        m = region_mask.float()
        cell_masks = [F.avg_pool2d(m, s, s) >= 0.5 for s in strides]
        # a GT box counts when the mask is 1 at its centre pixel
        H, W = region_mask.shape[2:]
        px = (targets[:, 2] * W).long().clamp(0, W - 1)
        py = (targets[:, 3] * H).long().clamp(0, H - 1)
        keep = region_mask[targets[:, 0].long(), 0, py, px] > 0
        targets = targets[keep]
    tcls, tbox, indices, anch = build_targets([pi.shape for pi in p], targets[:, :6], anchors, hyp["anchor_t"])
    lcls, lbox, lobj = torch.zeros(1), torch.zeros(1), torch.zeros(1)
    for i, pi in enumerate(p):
        b, a, gj, gi = indices[i]
        tobj = torch.zeros(pi.shape[:4], dtype=pi.dtype)
        n = b.shape[0]
        if n:
            pxy, pwh, _, pcls = pi[b, a, gj, gi].split((2, 2, 1, nc), 1)
            pxy = pxy.sigmoid() * 2 - 0.5
            pwh = (pwh.sigmoid() * 2) ** 2 * anch[i]
            iou = ciou(torch.cat((pxy, pwh), 1), tbox[i])
            lbox += (1.0 - iou).mean()
            iou = iou.detach().clamp(0).type(tobj.dtype)
            tobj[b, a, gj, gi] = iou
            if nc > 1:
                t = torch.full_like(pcls, cn)
                t[range(n), tcls[i]] = cp
                lcls += bce(pcls, t, cls_pw, gamma)
        if cell_masks is None:
            obji = bce(pi[..., 4], tobj, obj_pw, gamma)
        else:
            mask = cell_masks[i].expand(-1, pi.shape[1], -1, -1).float()
            obji = (bce(pi[..., 4], tobj, obj_pw, gamma, reduction="none") * mask).sum() / mask.sum().clamp(min=1)
        lobj += obji * balance[i]
    lbox *= hyp["box"]
    lobj *= hyp["obj"]
    lcls *= hyp["cls"]
    bs = p[0].shape[0]
    return (lbox + lobj + lcls) * bs, torch.cat((lbox, lobj, lcls)).detach()


HYP = {"box": 0.05, "obj": 0.7, "cls": 0.0525, "cls_pw": 1.0, "obj_pw": 1.0, "anchor_t": 4.0, "label_smoothing": 0.0, "fl_gamma": 0.0}
ANCHORS_PX = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]]
STRIDES = [8, 16, 32]


def make_targets(g, bs, n_per_image, nc, empty_images=()):
    rows = []
    for b in range(bs):
        if b in empty_images:
            continue
        for _ in range(n_per_image):
            w, h = (torch.rand(2, generator=g) * 0.3 + 0.02).tolist()
            xc = torch.rand(1, generator=g).item() * (1 - w) + w / 2
            yc = torch.rand(1, generator=g).item() * (1 - h) + h / 2
            cls = float(torch.randint(0, nc, (1,), generator=g).item())
            attrs = torch.randint(-1, 2, (7,), generator=g).float().tolist()
            rows.append(torch.tensor([float(b), cls, xc, yc, w, h] + attrs))
    # exact edge cases: a box centred on a cell corner and one touching the image border
    if bs > 0 and 0 not in empty_images:
        rows.append(torch.tensor([0.0, 1.0, 0.5, 0.5, 0.1, 0.1] + [-1.0] * 7))
        rows.append(torch.tensor([0.0, 2.0, 0.99, 0.02, 0.02, 0.04] + [-1.0] * 7))
    return torch.stack(rows) if rows else torch.zeros(0, 13)


def make_mask(g, bs, imgsz):
    m = torch.zeros(bs, 1, imgsz, imgsz, dtype=torch.uint8)
    m[0] = 1  # image 0 dense
    if bs > 1:
        m[1, :, 5:35, 10:50] = 1  # a rectangle not aligned to strides
    if bs > 2:
        m[2, :, 0:20, 0:20] = 1  # two regions (a mosaic)
        m[2, :, 40:64, 32:64] = 1
    return m  # image 3 (if any): nothing labelled


CASES = {
    "stock": dict(hyp={}, masked=False, empty=()),
    "focal_smooth_pw": dict(hyp={"fl_gamma": 1.5, "label_smoothing": 0.1, "cls_pw": 1.3, "obj_pw": 0.8}, masked=False, empty=()),
    "empty_image": dict(hyp={}, masked=False, empty=(1,)),
    "masked": dict(hyp={"fl_gamma": 1.5}, masked=True, empty=()),
    "masked_dense_equals_stock": dict(hyp={}, masked="dense", empty=()),
    "no_targets": dict(hyp={}, masked=False, empty=(0, 1, 2, 3)),
}


def main():
    torch.set_num_threads(2)
    out = {}
    bs, imgsz, nc, na = 4, 64, 3, 3
    anchors = torch.tensor(ANCHORS_PX, dtype=torch.float32).view(3, na, 2) / torch.tensor(STRIDES).view(3, 1, 1)
    out["anchors"] = anchors
    for ci, (name, case) in enumerate(CASES.items()):
        g = torch.Generator().manual_seed(len(name) * 7919)
        # the raw maps come from the default generator: sladet draws the same numbers after manualSeed(1000 + ci)
        torch.manual_seed(1000 + ci)
        p = [torch.randn(bs, na, imgsz // s, imgsz // s, 5 + nc) * 1.5 for s in STRIDES]
        targets = make_targets(g, bs, 6, nc, case["empty"])
        mask = None
        if case["masked"] == "dense":
            mask = torch.ones(bs, 1, imgsz, imgsz, dtype=torch.uint8)
        elif case["masked"]:
            mask = make_mask(g, bs, imgsz)
        hyp = {**HYP, **case["hyp"]}
        for i, pi in enumerate(p):
            pi.requires_grad_(True)
            out[f"{name}/p{i}/sum"] = pi.detach().double().sum()  # guards the regenerated maps
        out[f"{name}/targets"] = targets
        if mask is not None:
            out[f"{name}/mask"] = mask
        loss, items = compute_loss(p, targets, anchors, STRIDES, hyp, nc, mask)
        loss.backward()
        out[f"{name}/loss"] = loss.detach()
        out[f"{name}/items"] = items
        for i, pi in enumerate(p):
            out[f"{name}/grad{i}"] = pi.grad
    path = os.path.join(ROOT, "test", "fixtures", "yolo-loss.safetensors")
    meta = {"torch": torch.__version__, "nc": nc, "imgsz": imgsz, **{f"hyp.{c}": str({**HYP, **CASES[c]["hyp"]}) for c in CASES}}
    save(path, out, meta)
    print(f"wrote {len(out)} tensors, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
