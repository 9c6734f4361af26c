#!/usr/bin/python3
"""Reference detection metrics (test/fixtures/metrics.json) with numpy, written from YOLOv5's definitions: greedy
matching at IoU 0.50:0.05:0.95 (process_batch), ap_per_class (101-point interpolated AP, P/R at the max smoothed
mean-F1 confidence), and the confusion matrix. Random images with jittered, missing, duplicate and wrong-class
detections. Dev tool only: /usr/bin/python3 tools/oracle/metrics.py."""
import json
import os

import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
IOUV = np.linspace(0.5, 0.95, 10)


def box_iou(a, b):
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def dedupe(matches, resort):
    if matches.shape[0] > 1:
        matches = matches[matches[:, 2].argsort(kind="stable")[::-1]]
        matches = matches[np.unique(matches[:, 1], return_index=True)[1]]
        if resort:
            matches = matches[matches[:, 2].argsort(kind="stable")[::-1]]
        matches = matches[np.unique(matches[:, 0], return_index=True)[1]]
    return matches


def process_batch(det, lab):
    correct = np.zeros((det.shape[0], len(IOUV)), dtype=bool)
    if det.shape[0] == 0 or lab.shape[0] == 0:
        return correct
    iou = box_iou(lab[:, 1:], det[:, :4])
    same = lab[:, 0:1] == det[:, 5]
    for i, t in enumerate(IOUV):
        x = np.where((iou >= t) & same)
        if x[0].shape[0]:
            m = dedupe(np.concatenate((np.stack(x, 1), iou[x[0], x[1]][:, None]), 1), False)
            correct[m[:, 1].astype(int), i] = True
    return correct


def compute_ap(recall, precision):
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.flip(np.maximum.accumulate(np.flip(np.concatenate(([1.0], precision, [0.0])))))
    x = np.linspace(0, 1, 101)
    return np.trapz(np.interp(x, mrec, mpre), x)


def smooth(y, f):
    nf = round(len(y) * f * 2) // 2 + 1
    p = np.ones(nf // 2)
    return np.convolve(np.concatenate((p * y[0], y, p * y[-1])), np.ones(nf) / nf, mode="valid")


def ap_per_class(tp, conf, pred_cls, target_cls, eps=1e-16):
    i = np.argsort(-conf, kind="stable")
    tp, conf, pred_cls = tp[i], conf[i], pred_cls[i]
    classes, nt = np.unique(target_cls, return_counts=True)
    px = np.linspace(0, 1, 1000)
    ap, p, r = np.zeros((len(classes), tp.shape[1])), np.zeros((len(classes), 1000)), np.zeros((len(classes), 1000))
    for ci, c in enumerate(classes):
        i = pred_cls == c
        if i.sum() == 0 or nt[ci] == 0:
            continue
        fpc, tpc = (1 - tp[i]).cumsum(0), tp[i].cumsum(0)
        recall = tpc / (nt[ci] + eps)
        r[ci] = np.interp(-px, -conf[i], recall[:, 0], left=0)
        precision = tpc / (tpc + fpc)
        p[ci] = np.interp(-px, -conf[i], precision[:, 0], left=1)
        for j in range(tp.shape[1]):
            ap[ci, j] = compute_ap(recall[:, j], precision[:, j])
    f1 = 2 * p * r / (p + r + eps)
    k = smooth(f1.mean(0), 0.1).argmax()
    return {"classes": classes.tolist(), "ap": ap.tolist(), "p": p[:, k].tolist(), "r": r[:, k].tolist(), "f1": f1[:, k].tolist(), "k": int(k)}


def confusion(dets, labs, nc, conf=0.25, iou_thres=0.45):
    m = np.zeros((nc + 1, nc + 1))
    for det, lab in zip(dets, labs):
        det = det[det[:, 4] > conf]
        gt, dc = lab[:, 0].astype(int), det[:, 5].astype(int)
        iou = box_iou(lab[:, 1:], det[:, :4]) if len(det) and len(lab) else np.zeros((len(lab), len(det)))
        x = np.where(iou > iou_thres)
        matches = dedupe(np.concatenate((np.stack(x, 1), iou[x[0], x[1]][:, None]), 1), True) if x[0].shape[0] else np.zeros((0, 3))
        n = matches.shape[0] > 0
        m0, m1 = matches[:, 0].astype(int), matches[:, 1].astype(int)
        for i, g in enumerate(gt):
            j = m0 == i
            if n and j.sum() == 1:
                m[dc[m1[j]][0], g] += 1
            else:
                m[nc, g] += 1
        for i, d in enumerate(dc):
            if not (m1 == i).any():
                m[d, nc] += 1
    return m.tolist()


def main():
    rng = np.random.default_rng(3)
    nc, images = 4, 30
    dets, labs = [], []
    for _ in range(images):
        n = rng.integers(0, 6)
        xy = rng.uniform(0, 500, (n, 2))
        wh = rng.uniform(20, 120, (n, 2))
        lab = np.concatenate((rng.integers(0, nc, (n, 1)), xy, xy + wh), 1)
        rows = []
        for l in lab:
            for _ in range(rng.integers(0, 3)):  # missed, found, duplicated
                jitter = rng.normal(0, 8, 4)
                cls = l[0] if rng.random() < 0.8 else rng.integers(0, nc)
                rows.append(np.concatenate((l[1:] + jitter, [rng.uniform(0.01, 1.0), cls])))
        for _ in range(rng.integers(0, 3)):  # false alarms
            xy2 = rng.uniform(0, 500, 2)
            rows.append(np.concatenate((xy2, xy2 + rng.uniform(20, 100, 2), [rng.uniform(0.01, 1.0), rng.integers(0, nc)])))
        det = np.array(rows).reshape(-1, 6)
        det[:, 2:4] = np.maximum(det[:, 2:4], det[:, 0:2] + 1)
        dets.append(np.round(det, 3))
        labs.append(np.round(lab, 3))
    stats = [process_batch(d, l) for d, l in zip(dets, labs)]
    tp = np.concatenate(stats, 0).astype(float)
    conf = np.concatenate([d[:, 4] for d in dets])
    pcls = np.concatenate([d[:, 5] for d in dets])
    tcls = np.concatenate([l[:, 0] for l in labs])
    out = {
        "nc": nc,
        "detections": [d.tolist() for d in dets],
        "labels": [l.tolist() for l in labs],
        "correct": [s.astype(int).tolist() for s in stats],
        "ap_per_class": ap_per_class(tp, conf, pcls, tcls),
        "confusion": confusion(dets, labs, nc),
    }
    path = os.path.join(ROOT, "test", "fixtures", "metrics.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), {len(conf)} detections, {len(tcls)} labels")


if __name__ == "__main__":
    main()
