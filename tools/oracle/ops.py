#!/usr/bin/python3
"""Golden fixtures for the op-parity test: runs every case of test/fixtures/ops.spec.json in PyTorch (Debian
python3-torch 1.13.1) and writes inputs, outputs, output-gradients and input-gradients to test/fixtures/ops.safetensors.
Run as /usr/bin/python3 tools/oracle/ops.py (the python3 first on PATH may lack torch). Dev tool only."""
import json
import os
import sys
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
THREADS = 2  # the test runs with SLADET_THREADS = core count; keep both sides on the same count on this machine


def make_input(shape, gen, g):
    if gen == "randn":
        return torch.randn(shape, generator=g)
    if gen == "rand":
        return torch.rand(shape, generator=g)
    if gen == "pos":
        return torch.rand(shape, generator=g) + 0.5
    if gen == "bool":
        return torch.rand(shape, generator=g) > 0.5
    if gen == "special":
        t = torch.randn(shape, generator=g)
        t.view(-1)[0] = float("inf")
        t.view(-1)[1] = float("nan")
        t.view(-1)[2] = float("-inf")
        return t
    if gen.startswith("int:"):
        _, lo, hi = gen.split(":")
        return torch.randint(int(lo), int(hi), shape, generator=g)
    raise ValueError(gen)


def yolo_decode(p, anchors):
    ny, nx = p.shape[2], p.shape[3]
    gx = torch.arange(nx).view(1, 1, 1, nx, 1).expand(1, 1, ny, nx, 1)
    gy = torch.arange(ny).view(1, 1, ny, 1, 1).expand(1, 1, ny, nx, 1)
    grid = torch.cat([gx, gy], -1)
    s = p.sigmoid()
    xy = (s[..., 0:2] * 2 - 0.5 + grid) * 8
    wh = (s[..., 2:4] * 2) ** 2 * anchors.view(1, 3, 1, 1, 2)
    return torch.cat([xy, wh, s[..., 4:]], -1)


OPS = {
    "add": lambda i, a: i["a"] + i["b"],
    "add_alpha": lambda i, a: torch.add(i["a"], i["b"], alpha=a["alpha"]),
    "add_scalar": lambda i, a: i["a"] + a["s"],
    "sub": lambda i, a: i["a"] - i["b"],
    "rsub_scalar": lambda i, a: a["s"] - i["a"],
    "mul": lambda i, a: i["a"] * i["b"],
    "div": lambda i, a: i["a"] / i["b"],
    "pow": lambda i, a: i["a"] ** i["b"],
    "pow_scalar": lambda i, a: i["a"] ** a["s"],
    "neg": lambda i, a: -i["a"],
    "exp": lambda i, a: i["a"].exp(),
    "log": lambda i, a: i["a"].log(),
    "sqrt": lambda i, a: i["a"].sqrt(),
    "atan": lambda i, a: i["a"].atan(),
    "atan2": lambda i, a: torch.atan2(i["a"], i["b"]),
    "abs": lambda i, a: i["a"].abs(),
    "clamp": lambda i, a: i["a"].clamp(a.get("min"), a.get("max")),
    "maximum": lambda i, a: torch.maximum(i["a"], i["b"]),
    "minimum": lambda i, a: torch.minimum(i["a"], i["b"]),
    "sigmoid": lambda i, a: i["a"].sigmoid(),
    "silu": lambda i, a: F.silu(i["a"]),
    "relu": lambda i, a: F.relu(i["a"]),
    "leaky_relu": lambda i, a: F.leaky_relu(i["a"], a["slope"]),
    "softmax": lambda i, a: i["a"].softmax(a["dim"]),
    "log_softmax": lambda i, a: i["a"].log_softmax(a["dim"]),
    "eq_scalar": lambda i, a: i["a"] == a["s"],
    "lt": lambda i, a: i["a"] < i["b"],
    "ge_scalar": lambda i, a: i["a"] >= a["s"],
    "logical": lambda i, a: [i["a"] & i["b"], i["a"] | i["b"], ~i["a"], i["a"] ^ i["b"]],
    "isfinite": lambda i, a: [i["a"].isfinite(), i["a"].isnan()],
    "sum": lambda i, a: i["a"].sum(a["dims"], keepdim=a.get("keepdim", False)) if "dims" in a else i["a"].sum(),
    "mean": lambda i, a: i["a"].mean(a["dims"], keepdim=a.get("keepdim", False)) if "dims" in a else i["a"].mean(),
    "max": lambda i, a: i["a"].max(),
    "max_dim": lambda i, a: list(i["a"].max(a["dim"], keepdim=a["keepdim"])),
    "min_dim": lambda i, a: list(i["a"].min(a["dim"], keepdim=a["keepdim"])),
    "argmax": lambda i, a: i["a"].argmax(a["dim"]),
    "amax": lambda i, a: i["a"].amax(a["dims"]),
    "any_all": lambda i, a: [i["a"].any(), i["a"].all(), i["a"].any(a["dim"]), i["a"].all(a["dim"])],
    "reshape": lambda i, a: i["a"].reshape(a["shape"]),
    "view": lambda i, a: i["a"].view(a["shape"]),
    "permute": lambda i, a: i["a"].permute(a["dims"]),
    "transpose_contiguous": lambda i, a: i["a"].transpose(a["d0"], a["d1"]).contiguous(),
    "expand": lambda i, a: i["a"].expand(a["shape"]),
    "squeeze_unsqueeze": lambda i, a: [i["a"].squeeze(1), i["a"].squeeze(), i["a"].unsqueeze(0), i["a"].unsqueeze(-1)],
    "flatten": lambda i, a: i["a"].flatten(a["start"]),
    "clone": lambda i, a: i["a"].clone(),
    "slice": lambda i, a: i["a"].narrow(0, 0, i["a"].shape[0])[
        (slice(None),) * a["dim"] + (slice(a["start"], a["end"], a["step"]),)
    ],
    "select": lambda i, a: i["a"].select(a["dim"], a["index"]),
    "narrow": lambda i, a: i["a"].narrow(a["dim"], a["start"], a["length"]),
    "index_select": lambda i, a: i["a"].index_select(a["dim"], i["idx"]),
    "gather": lambda i, a: i["a"].gather(a["dim"], i["idx"]),
    "index_mask": lambda i, a: i["a"][i["m"]],
    "index_pair": lambda i, a: i["a"][i["i"], i["j"]],
    "masked_fill": lambda i, a: i["a"].masked_fill(i["m"], a["value"]),
    "where": lambda i, a: torch.where(i["c"], i["a"], i["b"]),
    "where_scalar": lambda i, a: torch.where(i["c"], i["a"], torch.tensor(float(a["s"]))),
    "nonzero": lambda i, a: i["a"].nonzero(),
    "cat": lambda i, a: torch.cat([i["a"], i["b"]], a["dim"]),
    "stack": lambda i, a: torch.stack([i["a"], i["b"]], a["dim"]),
    "split": lambda i, a: list(i["a"].split(a["sizes"], a["dim"])),
    "chunk": lambda i, a: list(i["a"].chunk(a["chunks"], a["dim"])),
    "matmul": lambda i, a: i["a"] @ i["b"],
    "linear": lambda i, a: F.linear(i["x"], i["w"], i["b"]),
    "conv2d": lambda i, a: F.conv2d(i["x"], i["w"], i.get("b"), a["stride"], a["padding"], a["dilation"], a["groups"]),
    "batch_norm": lambda i, a: [
        F.batch_norm(i["x"], i["rm"], i["rv"], i["w"], i["b"], a["training"], a["momentum"], a["eps"]),
        i["rm"],
        i["rv"],
    ],
    "max_pool2d": lambda i, a: F.max_pool2d(i["x"], a["k"], a["s"], a["p"]),
    "avg_pool2d": lambda i, a: F.avg_pool2d(i["x"], a["k"], a["s"]),
    "upsample_nearest": lambda i, a: F.interpolate(i["x"], scale_factor=a["scale"], mode="nearest"),
    "bce": lambda i, a: F.binary_cross_entropy_with_logits(i["x"], i["y"], reduction=a["reduction"]),
    "bce_pw": lambda i, a: F.binary_cross_entropy_with_logits(i["x"], i["y"], pos_weight=i["pw"], reduction=a["reduction"]),
    "bce_w": lambda i, a: F.binary_cross_entropy_with_logits(i["x"], i["y"], weight=i["w"], reduction=a["reduction"]),
    "cross_entropy": lambda i, a: F.cross_entropy(i["x"], i["t"], label_smoothing=a["smoothing"]),
    "to_float64": lambda i, a: i["a"].to(torch.float64) * 3,
    "yolo_decode": lambda i, a: yolo_decode(i["p"], i["anchors"]),
}


def run_case(case, out):
    name = case["name"]
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    inputs = {k: make_input(shape, gen, g) for k, (shape, gen) in case["inputs"].items()}
    for k, t in inputs.items():
        out[f"{name}/in/{k}"] = t.clone()
    grads = case.get("grad", [])
    for k in grads:
        inputs[k].requires_grad_(True)
    result = OPS[case["op"]](inputs, case.get("args", {}))
    outputs = result if isinstance(result, list) else [result]
    loss = None
    for n, o in enumerate(outputs):
        out[f"{name}/out/{n}"] = o.detach().clone()
        if grads and o.is_floating_point() and o.requires_grad:
            gout = torch.randn(o.shape, generator=g, dtype=o.dtype)
            out[f"{name}/gout/{n}"] = gout
            term = (o * gout).sum()
            loss = term if loss is None else loss + term
    if grads:
        loss.backward()
        for k in grads:
            out[f"{name}/grad/{k}"] = inputs[k].grad


def main():
    torch.set_num_threads(THREADS)
    with open(os.path.join(ROOT, "test", "fixtures", "ops.spec.json")) as f:
        spec = json.load(f)
    out = {}
    for case in spec["cases"]:
        run_case(case, out)
    path = os.path.join(ROOT, "test", "fixtures", "ops.safetensors")
    save(path, out, {"torch": torch.__version__, "threads": THREADS})
    print(f"wrote {len(spec['cases'])} cases, {len(out)} tensors, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
