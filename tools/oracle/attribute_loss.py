#!/usr/bin/python3
"""Reference for the attribute loss (test/fixtures/attribute-loss.safetensors): the seed's asymmetric loss
(gamma_neg 4, gamma_pos 1, clip 0.08, eps 1e-8, focusing weights without grad) over one-hot targets of a1..a6, written
from its published formula, masked per attribute for unknown values and divided by the number of objects with a known
attribute; Cell Size by cross-entropy over known sizes. Case "all_known" is exactly the seed's loss (sum / N_valid).
Dev tool only: /usr/bin/python3 tools/oracle/attribute_loss.py."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
G_POS, G_NEG, CLIP, EPS = 1.0, 4.0, 0.08, 1e-8


def asl(x, y):
    p = torch.sigmoid(x)
    p_neg = (1 - p + CLIP).clamp(max=1)
    los = y * torch.log(p.clamp(min=EPS)) + (1 - y) * torch.log(p_neg.clamp(min=EPS))
    with torch.no_grad():
        pt = p * y + p_neg * (1 - y)
        w = torch.pow(1 - pt, G_POS * y + G_NEG * (1 - y))
    return -(los * w)


# case "balanced": class-balanced weights from priors of value 1 (sklearn's "balanced": 1/(2p) for 1, 1/(2(1-p)) for
# 0), priors clamped to [0.02, 0.98]; the third and last priors test the clamp
PRIORS = [0.62, 0.5, 0.01, 0.68, 0.39, 0.995]
PRIOR_FLOOR = 0.02


def loss(cell, binary, attrs, priors=None):
    vals = attrs[:, 1:7].round().long()
    known = (vals >= 0) & (vals <= 1)
    y = torch.zeros(binary.shape).scatter(2, vals.clamp(0, 1).unsqueeze(2), 1.0) * known.unsqueeze(2)
    weight = known.float()
    if priors is not None:
        p = torch.tensor(priors).clamp(PRIOR_FLOOR, 1 - PRIOR_FLOOR)
        v = vals.clamp(0, 1).float()
        weight = weight * (v * 0.5 / p + (1 - v) * 0.5 / (1 - p))
    b = (asl(binary, y) * weight.unsqueeze(2)).sum() / max(int(known.any(1).sum()), 1)
    size = attrs[:, 0].round().long()
    sk = (size >= 0) & (size <= 2)
    c = F.cross_entropy(cell[sk], size[sk]) if sk.any() else cell.sum() * 0
    return b + c, b, c


def main():
    torch.set_num_threads(2)
    out = {}
    g = torch.Generator().manual_seed(7)
    k = 12
    cases = {}
    attrs = torch.randint(0, 2, (k, 7), generator=g).float()
    attrs[:, 0] = torch.randint(0, 3, (k,), generator=g).float()
    cases["all_known"] = attrs.clone()
    mixed = attrs.clone()
    mixed[0, 1] = 2  # the seed crashed on a1 = 2: here only that attribute is masked
    mixed[1, 3] = -1
    mixed[2, 1:7] = -1  # an object with no known binary attribute
    mixed[3, 0] = 3  # Cell Size out of range = unknown
    mixed[4, 0] = -1
    cases["mixed_unknown"] = mixed
    none = attrs.clone()
    none[:, :] = -1
    cases["nothing_known"] = none
    cases["balanced"] = mixed.clone()
    for name, a in cases.items():
        cell = torch.randn(k, 3, generator=g, requires_grad=True)
        binary = torch.randn(k, 6, 2, generator=g, requires_grad=True)
        total, b, c = loss(cell, binary, a, PRIORS if name == "balanced" else None)
        total.backward()
        out.update({f"{name}/cell": cell.detach(), f"{name}/binary": binary.detach(), f"{name}/attrs": a,
                    f"{name}/loss": torch.stack([total, b, c]).detach(),
                    f"{name}/grad_cell": cell.grad, f"{name}/grad_binary": binary.grad})
    # the seed's own normalisation on all-known rows: sum over the 12 logits / N_valid
    a = cases["all_known"]
    y = torch.eye(2)[a[:, 1:7].long()]
    out["all_known/seed_binary"] = (asl(out["all_known/binary"].view(k, 12), y.view(k, 12)).sum() / k).reshape(1)
    path = os.path.join(ROOT, "test", "fixtures", "attribute-loss.safetensors")
    save(path, out, {"torch": torch.__version__})
    print(f"wrote {len(out)} tensors, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
