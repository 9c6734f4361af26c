#!/usr/bin/python3
"""Reference for phase 2 (test/fixtures/sla.safetensors), written from ../shared/docs/method.md §4.3 and §4.5 and
design.md §4 decisions 6-7, not from the seed's code:

- pseudo-label selection on fixed decoded predictions: per image, keep objectness > nms_conf, scores = obj * cls,
  conf = max, keep conf > nms_conf, greedy class-agnostic NMS (suppress IoU > nms_iou) by confidence, max_det; then
  area > min_area; conf > threshold with normalised class entropy <= entropy_max -> pseudo-label, sim_conf < conf <=
  threshold -> anchor; drop boxes that intersect a ground-truth box of the image by more than gt_overlap px^2 and
  (unless in_region) boxes whose centre pixel is labelled in the region mask. Also the in-region predictions with
  whether they match a label (greedy by confidence, IoU >= 0.5, same class) for threshold calibration.
- the triplet term: cosine similarity + 1 between anchor and ground-truth embeddings of the same image whose boxes
  overlap by IoU < sim_iou; hardest positive (min, same class), hardest negative (max, other class); anchors with
  both give max(0, s_neg - s_pos + m) (conventional) or max(0, s_pos - s_neg - m) (the seed's sign); mean.
Dev tool only: /usr/bin/python3 tools/oracle/sla.py."""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
H = W = 64
NC = 4


def iou_xyxy(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def xywh_to_xyxy(b):
    return [b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2]


def nms_image(rows, p):
    dets = []
    for r in rows.tolist():
        obj = r[4]
        if obj <= p["nms_conf"]:
            continue
        scores = [c * obj for c in r[5:]]
        conf = max(scores)
        if conf <= p["nms_conf"]:
            continue
        dets.append((xywh_to_xyxy(r[:4]), conf, scores.index(conf), scores))
    dets.sort(key=lambda d: -d[1])
    kept = []
    for d in dets:
        if all(iou_xyxy(d[0], k[0]) <= p["nms_iou"] for k in kept):
            kept.append(d)
    return kept[: p["max_det"]]


def entropy(scores):
    s = sum(scores)
    if s <= 0:
        return 1.0
    h = -sum((v / s) * math.log(v / s) for v in scores if v > 0)
    return h / math.log(len(scores))


def select(pred, targets, mask, p):
    pseudo, anchors, calib = [], [], []
    for b in range(pred.shape[0]):
        gts = [t for t in targets.tolist() if int(t[0]) == b]
        gt_px = [xywh_to_xyxy([t[2] * W, t[3] * H, t[4] * W, t[5] * H]) for t in gts]
        inside_dets = []
        for box, conf, cls, scores in nms_image(pred[b], p):
            x1, y1, x2, y2 = box
            if (x2 - x1) * (y2 - y1) <= p["min_area"]:
                continue
            xc, yc, w, h = (x1 + x2) / 2 / W, (y1 + y2) / 2 / H, (x2 - x1) / W, (y2 - y1) / H
            px = min(max(int(xc * W), 0), W - 1)
            py = min(max(int(yc * H), 0), H - 1)
            inside = bool(mask[b, 0, py, px] > 0)
            row = [b, cls, xc, yc, w, h, conf]
            if inside:
                inside_dets.append(row)
                if not p["in_region"]:
                    continue
            if conf <= p["sim_conf"] * p["threshold"] / 0.95:
                continue
            overlap = 0.0
            for g in gt_px:
                iw = min(x2, g[2]) - max(x1, g[0])
                ih = min(y2, g[3]) - max(y1, g[1])
                if iw > 0 and ih > 0:
                    overlap = max(overlap, iw * ih)
            if overlap > p["gt_overlap"]:
                continue
            if conf > p["threshold"]:
                if entropy(scores) <= p["entropy"]:
                    pseudo.append(row)
            else:
                anchors.append(row)
        taken = set()
        for row in sorted(inside_dets, key=lambda r: -r[6]):
            best, best_iou = -1, 0.5
            for j, t in enumerate(gts):
                if j in taken:
                    continue
                v = iou_xyxy(xywh_to_xyxy(row[2:6]), xywh_to_xyxy(t[2:6]))
                if v >= best_iou:
                    best, best_iou = j, v
            if best >= 0:
                taken.add(best)
            calib.append([row[6], 1.0 if best >= 0 and int(gts[best][1]) == row[1] else 0.0])
    as_tensor = lambda rows, n: torch.tensor(rows, dtype=torch.float64).reshape(-1, n)  # noqa: E731
    return as_tensor(pseudo, 7), as_tensor(anchors, 7), as_tensor(calib, 2)


def make_predictions(g, b, n):
    pred = torch.zeros(b, n, 5 + NC)
    pred[..., 0:2] = torch.rand(b, n, 2, generator=g) * W
    pred[..., 2:4] = 2 + torch.rand(b, n, 2, generator=g) * 14
    pred[..., 4] = torch.rand(b, n, generator=g) ** 0.3
    cls = torch.rand(b, n, NC, generator=g) ** 3
    top = torch.randint(0, NC, (b, n), generator=g)
    cls.scatter_(2, top.unsqueeze(2), (0.5 + 0.5 * torch.rand(b, n, 1, generator=g)) ** 0.2)
    pred[..., 5:] = cls
    return pred


def triplet(anchor_emb, gt_emb, anchors, gts, max_iou, margin, sign):
    def unit(x):
        return x / x.norm(dim=1, keepdim=True).clamp(min=1e-8)

    s = unit(anchor_emb) @ unit(gt_emb).T + 1
    losses = []
    for i, a in enumerate(anchors.tolist()):
        pos, neg = [], []
        for j, g in enumerate(gts.tolist()):
            if int(g[0]) != int(a[0]) or iou_xyxy(xywh_to_xyxy(a[2:6]), xywh_to_xyxy(g[2:6])) >= max_iou:
                continue
            (pos if int(g[1]) == int(a[1]) else neg).append(j)
        if not pos or not neg:
            continue
        s_pos = s[i, pos].min()
        s_neg = s[i, neg].max()
        gap = s_neg - s_pos + margin if sign == "conventional" else s_pos - s_neg - margin
        losses.append(gap.clamp(min=0))
    return torch.stack(losses).mean() if losses else anchor_emb.sum() * 0


def main():
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(11)
    out = {}
    b = 3
    pred = make_predictions(g, b, 400).double()
    targets = []
    for img in range(b):
        for _ in range(5):
            xc, yc = torch.rand(2, generator=g).tolist()
            w, h = (0.08 + 0.15 * torch.rand(2, generator=g)).tolist()
            targets.append([img, int(torch.randint(0, NC, (1,), generator=g)), xc, yc, w, h])
    # some predictions sit on ground truth (for the overlap rule and calibration)
    for k, t in enumerate(targets):
        img = int(t[0])
        pred[img, k, 0:4] = torch.tensor([t[2] * W + 0.5, t[3] * H - 0.5, t[4] * W, t[5] * H], dtype=torch.float64)
        pred[img, k, 4] = 0.99
        pred[img, k, 5:] = 0.05
        pred[img, k, 5 + int(t[1]) if k % 3 else 5 + (int(t[1]) + 1) % NC] = 0.97
    targets = torch.tensor(targets, dtype=torch.float64).float().double()  # what the test reads back
    pred = pred.float().double()
    mask = torch.zeros(b, 1, H, W, dtype=torch.uint8)
    mask[0, :, 8:40, 4:36] = 1
    mask[1, :, 30:64, 20:60] = 1
    mask[2, :, 0:20, 0:64] = 1
    out.update({"select/pred": pred.float(), "select/targets": targets.float(), "select/mask": mask})
    base = dict(nms_conf=0.5, nms_iou=0.2, max_det=300, min_area=10, gt_overlap=100, sim_conf=0.6)
    cases = {
        "seed_constants": dict(base, threshold=0.95, entropy=1.0, in_region=False),
        "in_region": dict(base, threshold=0.95, entropy=1.0, in_region=True),
        "calibrated_entropy": dict(base, threshold=0.7, entropy=0.6, in_region=False, nms_conf=0.25),
    }
    for name, p in cases.items():
        pseudo, anchors, calib = select(pred, targets, mask, p)
        out[f"select/{name}/pseudo"] = pseudo.float()
        out[f"select/{name}/anchors"] = anchors.float()
        out[f"select/{name}/calibration"] = calib.float()
        out[f"select/{name}/params"] = torch.tensor(
            [p["threshold"], p["entropy"], 1.0 if p["in_region"] else 0.0, p["nms_conf"]])
        print(name, "pseudo", len(pseudo), "anchors", len(anchors), "calibration", len(calib))

    m, n, c = 7, 9, 16
    anchors = torch.cat([torch.randint(0, 2, (m, 1), generator=g), torch.randint(0, 3, (m, 1), generator=g),
                         0.2 + 0.6 * torch.rand(m, 2, generator=g), 0.1 + 0.2 * torch.rand(m, 2, generator=g)], 1)
    gts = torch.cat([torch.randint(0, 2, (n, 1), generator=g), torch.randint(0, 3, (n, 1), generator=g),
                     0.2 + 0.6 * torch.rand(n, 2, generator=g), 0.1 + 0.2 * torch.rand(n, 2, generator=g)], 1)
    gts[0, :] = anchors[0, :]  # identical box: excluded by the IoU rule
    out.update({"triplet/anchors": anchors.float(), "triplet/gt": gts.float()})
    a_emb = torch.randn(m, c, generator=g)
    g_emb = torch.randn(n, c, generator=g)
    out.update({"triplet/anchor_emb": a_emb, "triplet/gt_emb": g_emb})
    for sign in ["conventional", "seed"]:
        a = a_emb.clone().requires_grad_(True)
        e = g_emb.clone().requires_grad_(True)
        loss = triplet(a, e, anchors, gts, 0.3, 0.05, sign)
        loss.backward()
        out[f"triplet/{sign}/loss"] = loss.detach().reshape(1)
        out[f"triplet/{sign}/grad_anchor"] = a.grad
        out[f"triplet/{sign}/grad_gt"] = e.grad
        print("triplet", sign, float(loss))
    path = os.path.join(ROOT, "test", "fixtures", "sla.safetensors")
    save(path, out, {"torch": torch.__version__})
    print(f"wrote {len(out)} tensors, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
