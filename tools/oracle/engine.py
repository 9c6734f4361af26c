#!/usr/bin/python3
"""Golden fixtures for engine part 2 (test/fixtures/engine.safetensors): RNG draws after a seed, seeded layer
initialisation, a small Sequential net's forward/backward in train and eval mode (parameter gradients, BatchNorm
running statistics), and a 20-step SGD trajectory (Nesterov, weight decay, 3 parameter groups whose lr and momentum
change every step, gradient clipping, EMA). Run as /usr/bin/python3 tools/oracle/engine.py. Dev tool only."""
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
STEPS = 20


def make_net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, 1, 1, bias=False),
        nn.BatchNorm2d(8, eps=1e-3, momentum=0.03),
        nn.SiLU(),
        nn.Conv2d(8, 16, 3, 2, 1),
        nn.LeakyReLU(0.1),
        nn.MaxPool2d(2),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(16, 4, 1),
        nn.Flatten(),
        nn.Linear(4 * 8 * 8, 5),
        nn.Dropout(0.5),
    )


def lr_schedule(k):
    """Warmup-like per-step hyperparameters: (bias lr, other lr, momentum)."""
    f = k / (STEPS - 1)
    return 0.1 - (0.1 - 0.01) * f, 0.01 * f + 0.001, 0.8 + (0.937 - 0.8) * f


def main():
    torch.set_num_threads(2)
    out = {}
    # 1. RNG draws after a seed
    torch.manual_seed(1234)
    out["rng/rand"] = torch.rand(5)
    out["rng/randn"] = torch.randn(2, 3)
    out["rng/randint"] = torch.randint(0, 10, (6,))
    out["rng/randperm"] = torch.randperm(7)
    # 2. seeded initialisation
    torch.manual_seed(7)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    lin = nn.Linear(6, 2)
    out["init/conv.weight"], out["init/conv.bias"] = conv.weight.detach(), conv.bias.detach()
    out["init/linear.weight"], out["init/linear.bias"] = lin.weight.detach(), lin.bias.detach()
    # 3. forward/backward of a small net (dropout in eval mode only: its mask is random)
    torch.manual_seed(0)
    net = make_net()
    for k, v in net.state_dict().items():
        out[f"net/init/{k}"] = v.clone()
    x = torch.randn(2, 3, 16, 16)
    gout = torch.randn(2, 5)
    out["net/x"], out["net/gout"] = x, gout
    net.train()
    net[10].p = 0.0  # dropout off in this train-mode pass so the output is deterministic
    y = net(x)
    (y * gout).sum().backward()
    out["net/train/out"] = y.detach()
    for k, p in net.named_parameters():
        out[f"net/train/grad/{k}"] = p.grad.clone()
    for k, v in net.state_dict().items():
        if "running" in k or "num_batches" in k:
            out[f"net/train/state/{k}"] = v.clone()
    net[10].p = 0.5
    net.eval()
    with torch.no_grad():
        out["net/eval/out"] = net(x)
    # 4. SGD trajectory with groups, Nesterov, decay, clipping and EMA
    torch.manual_seed(0)
    net = make_net()
    net[10].p = 0.0
    ema = make_net()
    ema.load_state_dict(net.state_dict())
    g_bn, g_w, g_b = [], [], []
    for name, p in net.named_parameters():
        if name.endswith("bias"):
            g_b.append(p)
        elif name.startswith("1."):
            g_bn.append(p)
        else:
            g_w.append(p)
    opt = torch.optim.SGD(g_bn, lr=0.01, momentum=0.8, nesterov=True)
    opt.add_param_group({"params": g_w, "weight_decay": 5e-4})
    opt.add_param_group({"params": g_b})
    xs = torch.randn(STEPS, 2, 3, 16, 16)
    losses, norms = [], []
    for k in range(STEPS):
        lr_bias, lr_other, momentum = lr_schedule(k)
        for i, g in enumerate(opt.param_groups):
            g["lr"] = lr_bias if i == 2 else lr_other
            g["momentum"] = momentum
        loss = (net(xs[k]) ** 2).mean()
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(net.parameters(), 1.0).item())
        opt.step()
        opt.zero_grad()
        with torch.no_grad():
            msd = net.state_dict()
            for key, v in ema.state_dict().items():
                if v.dtype.is_floating_point:
                    v.mul_(0.9).add_(msd[key].detach(), alpha=0.1)
                else:
                    v.copy_(msd[key])
        losses.append(loss.item())
    out["sgd/xs"] = xs
    out["sgd/losses"] = torch.tensor(losses, dtype=torch.float64)
    out["sgd/norms"] = torch.tensor(norms, dtype=torch.float64)
    for k, v in net.state_dict().items():
        out[f"sgd/final/{k}"] = v.clone()
    for k, v in ema.state_dict().items():
        out[f"sgd/ema/{k}"] = v.clone()
    for i, g in enumerate(opt.param_groups):
        for j, p in enumerate(g["params"]):
            out[f"sgd/momentum/{i}/{j}"] = opt.state[p]["momentum_buffer"].clone()
    path = os.path.join(ROOT, "test", "fixtures", "engine.safetensors")
    save(path, out, {"torch": torch.__version__, "steps": STEPS})
    print(f"wrote {len(out)} tensors, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
