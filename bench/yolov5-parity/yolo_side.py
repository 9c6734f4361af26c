# Benchmark check (issue 23), not a test: Ultralytics YOLOv5 v7.0's own code (run as an external reference, AGPL: nothing of it
# is copied here) builds a YOLOv5n (nc=3), computes ComputeLoss on a fixed batch,
# its smart_optimizer groups, one warm-up SGD step with clipping; writes everything for the sladet side to compare.
import sys, os, glob, copy, math, json
YOLOV5 = os.environ.get("YOLOV5", "/tmp/yolov5")
sys.path.insert(0, YOLOV5)
import numpy as np, torch, cv2, yaml
from models.yolo import Model
from utils.loss import ComputeLoss
from utils.torch_utils import smart_optimizer, ModelEMA
from utils.general import init_seeds
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "oracle"))
from safetensors_io import save

OUT = os.environ.get("OUT", "/tmp/yolov5-parity")
BCCD = os.environ.get("BCCD_LLD", "/tmp/sladet-bccd/lld")
os.makedirs(OUT, exist_ok=True)
init_seeds(1, deterministic=False)
hyp = yaml.safe_load(open(f"{YOLOV5}/data/hyps/hyp.scratch-low.yaml"))
model = Model(f"{YOLOV5}/models/yolov5n.yaml", ch=3, nc=3)
nl = model.model[-1].nl
hyp["box"] *= 3 / nl; hyp["cls"] *= 3 / 80 * 3 / nl; hyp["obj"] *= (640 / 640) ** 2 * 3 / nl
hyp["label_smoothing"] = 0.0
model.nc = 3; model.hyp = hyp; model.names = ["RBC", "WBC", "Platelets"]
init_state = copy.deepcopy(model)
torch.save({"epoch": -1, "best_fitness": None, "model": copy.deepcopy(model), "ema": None, "updates": None,
            "optimizer": None, "opt": {}, "date": None}, f"{OUT}/init.pt")
# fixed batch: 4 val images letterboxed 640x480 -> 640x640 (pad 80 top and bottom), no augmentation
files = sorted(glob.glob(f"{BCCD}/images/val/*"))[:4]
imgs, targets = [], []
for i, f in enumerate(files):
    im = cv2.imread(f)[:, :, ::-1]
    h, w = im.shape[:2]; assert (h, w) == (480, 640), (f, h, w)
    canvas = np.full((640, 640, 3), 114, np.uint8); canvas[80:560] = im
    imgs.append(torch.from_numpy(canvas.transpose(2, 0, 1).copy()))
    lab = np.loadtxt(f.replace("/images/", "/labels/").rsplit(".", 1)[0] + ".txt", ndmin=2)
    lab[:, 2] = (lab[:, 2] * 480 + 80) / 640; lab[:, 4] = lab[:, 4] * 480 / 640
    targets.append(np.concatenate([np.full((len(lab), 1), i), lab], 1))
x = torch.stack(imgs).float() / 255
t = torch.from_numpy(np.concatenate(targets)).float()
model.train()
pred = model(x)
cl = ComputeLoss(model)
loss, items = cl(pred, t)
print("yolo loss", loss.item(), items.tolist())
loss.backward()
g = smart_optimizer(model, "SGD", hyp["lr0"], hyp["momentum"], hyp["weight_decay"] * 16 * 4 / 64)
sizes = [len(pg["params"]) for pg in g.param_groups]
print("groups", sizes, [pg["weight_decay"] for pg in g.param_groups])
# warm-up settings of iteration 0 (train.py: bias lr 0.1, others 0, momentum 0.8)
for j, pg in enumerate(g.param_groups):
    pg["lr"] = 0.1 if j == 0 else 0.0; pg["momentum"] = 0.8
norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
g.step()
print("grad norm", norm.item())
ema = ModelEMA(init_state); ema.update(model)
print("ema decay 1", ema.decay(1), "updates", ema.updates)
tensors = {"images": x.contiguous(), "targets": t.contiguous(), "loss": loss.detach().reshape(1), "items": items,
           "norm": norm.reshape(1).float()}
for k, v in model.state_dict().items():
    if v.dtype.is_floating_point: tensors[f"stepped.{k}"] = v.detach().contiguous()
for k, v in ema.ema.state_dict().items():
    if v.dtype.is_floating_point: tensors[f"ema.{k}"] = v.detach().contiguous()
save(f"{OUT}/yolo_side.safetensors", tensors)


# schedule of the BCCD run (nb = 13 batches, 100 epochs, batch 16, nbs 64) over its first 150 iterations, as train.py
# sets it: np.interp over [0, nw] during warm-up, the epoch's lr0 · lf(epoch) after; and ModelEMA's decay per update
nb, epochs, nbs, bs = 13, 100, 64, 16
nw = max(round(hyp["warmup_epochs"] * nb), 100)
lf = lambda x: (1 - x / epochs) * (1.0 - hyp["lrf"]) + hyp["lrf"]  # noqa: E731
accumulate, seq = max(round(nbs / bs), 1), []
for ni in range(150):
    epoch = ni // nb
    lrs, momentum = [hyp["lr0"] * lf(epoch)] * 3, hyp["momentum"]
    if ni <= nw:
        accumulate = max(1, np.interp(ni, [0, nw], [1, nbs / bs]).round())
        lrs = [np.interp(ni, [0, nw], [hyp["warmup_bias_lr"] if j == 0 else 0.0, hyp["lr0"] * lf(epoch)]) for j in range(3)]
        momentum = np.interp(ni, [0, nw], [hyp["warmup_momentum"], hyp["momentum"]])
    seq.append([float(v) for v in lrs] + [float(momentum), float(accumulate)])
json.dump({"groups": sizes, "hyp": hyp, "warmup": nw, "schedule": seq,
           "ema_decay": [ema.decay(u) for u in range(1, 3001)]}, open(f"{OUT}/yolo_side.json", "w"))
