/**
 * Op-by-op parity with PyTorch: replays test/fixtures/ops.spec.json against the golden outputs and gradients written
 * by tools/oracle/ops.py (Debian python3-torch 1.13.1). Forward outputs and input gradients must match.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { arange, cat, F, meshgrid, stack, type Tensor, tensor, tidy, where } from "../../src/torch/index.js";
import { assertClose, fixturePath, loadGolden } from "../helpers.js";

type Inputs = Record<string, Tensor>;
type Args = Record<string, unknown>;
type Impl = (i: Inputs, a: Args) => Tensor | Tensor[];

const num = (a: Args, k: string) => a[k] as number;

function yoloDecode(p: Tensor, anchors: Tensor): Tensor {
  const ny = p.size(2);
  const nx = p.size(3);
  const gx = arange(nx).view(1, 1, 1, nx, 1).expand(1, 1, ny, nx, 1);
  const gy = arange(ny).view(1, 1, ny, 1, 1).expand(1, 1, ny, nx, 1);
  const grid = cat([gx, gy], -1);
  const s = p.sigmoid();
  const xy = s.slice(-1, 0, 2).mul(2).sub(0.5).add(grid).mul(8);
  const wh = s
    .slice(-1, 2, 4)
    .mul(2)
    .pow(2)
    .mul(anchors.view(1, 3, 1, 1, 2));
  return cat([xy, wh, s.slice(-1, 4)], -1);
}

const OPS: Record<string, Impl> = {
  add: (i) => i.a!.add(i.b!),
  add_alpha: (i, a) => i.a!.add(i.b!, num(a, "alpha")),
  add_scalar: (i, a) => i.a!.add(num(a, "s")),
  sub: (i) => i.a!.sub(i.b!),
  rsub_scalar: (i, a) => i.a!.rsub(num(a, "s")),
  mul: (i) => i.a!.mul(i.b!),
  div: (i) => i.a!.div(i.b!),
  pow: (i) => i.a!.pow(i.b!),
  pow_scalar: (i, a) => i.a!.pow(num(a, "s")),
  neg: (i) => i.a!.neg(),
  exp: (i) => i.a!.exp(),
  log: (i) => i.a!.log(),
  sqrt: (i) => i.a!.sqrt(),
  atan: (i) => i.a!.atan(),
  atan2: (i) => i.a!.atan2(i.b!),
  abs: (i) => i.a!.abs(),
  clamp: (i, a) => i.a!.clamp(a["min"] as number | undefined, a["max"] as number | undefined),
  maximum: (i) => i.a!.maximum(i.b!),
  minimum: (i) => i.a!.minimum(i.b!),
  sigmoid: (i) => i.a!.sigmoid(),
  silu: (i) => i.a!.silu(),
  relu: (i) => i.a!.relu(),
  leaky_relu: (i, a) => i.a!.leakyRelu(num(a, "slope")),
  softmax: (i, a) => i.a!.softmax(num(a, "dim")),
  log_softmax: (i, a) => i.a!.logSoftmax(num(a, "dim")),
  eq_scalar: (i, a) => i.a!.eq(num(a, "s")),
  lt: (i) => i.a!.lt(i.b!),
  ge_scalar: (i, a) => i.a!.ge(num(a, "s")),
  logical: (i) => [i.a!.logicalAnd(i.b!), i.a!.logicalOr(i.b!), i.a!.logicalNot(), i.a!.logicalXor(i.b!)],
  isfinite: (i) => [i.a!.isfinite(), i.a!.isnan()],
  sum: (i, a) => i.a!.sum(a["dims"] as number[] | undefined, (a["keepdim"] as boolean | undefined) ?? false),
  mean: (i, a) => i.a!.mean(a["dims"] as number[] | undefined, (a["keepdim"] as boolean | undefined) ?? false),
  max: (i) => i.a!.max(),
  max_dim: (i, a) => i.a!.maxDim(num(a, "dim"), a["keepdim"] as boolean),
  min_dim: (i, a) => i.a!.minDim(num(a, "dim"), a["keepdim"] as boolean),
  argmax: (i, a) => i.a!.argmax(num(a, "dim")),
  amax: (i, a) => i.a!.amax(a["dims"] as number[]),
  any_all: (i, a) => [i.a!.any(), i.a!.all(), i.a!.any(num(a, "dim")), i.a!.all(num(a, "dim"))],
  reshape: (i, a) => i.a!.reshape(...(a["shape"] as number[])),
  view: (i, a) => i.a!.view(...(a["shape"] as number[])),
  permute: (i, a) => i.a!.permute(...(a["dims"] as number[])),
  transpose_contiguous: (i, a) => i.a!.transpose(num(a, "d0"), num(a, "d1")).contiguous(),
  expand: (i, a) => i.a!.expand(...(a["shape"] as number[])),
  squeeze_unsqueeze: (i) => [i.a!.squeeze(1), i.a!.squeeze(), i.a!.unsqueeze(0), i.a!.unsqueeze(-1)],
  flatten: (i, a) => i.a!.flatten(num(a, "start")),
  clone: (i) => i.a!.clone(),
  slice: (i, a) => i.a!.slice(num(a, "dim"), a["start"] as number | null, a["end"] as number | null, num(a, "step")),
  select: (i, a) => i.a!.select(num(a, "dim"), num(a, "index")),
  narrow: (i, a) => i.a!.narrow(num(a, "dim"), num(a, "start"), num(a, "length")),
  index_select: (i, a) => i.a!.indexSelect(num(a, "dim"), i.idx!),
  gather: (i, a) => i.a!.gather(num(a, "dim"), i.idx!),
  index_mask: (i) => i.a!.index(i.m!),
  index_pair: (i) => i.a!.index(i.i!, i.j!),
  masked_fill: (i, a) => i.a!.maskedFill(i.m!, num(a, "value")),
  where: (i) => where(i.c!, i.a!, i.b!),
  where_scalar: (i, a) => where(i.c!, i.a!, num(a, "s")),
  nonzero: (i) => i.a!.nonzero(),
  cat: (i, a) => cat([i.a!, i.b!], num(a, "dim")),
  stack: (i, a) => stack([i.a!, i.b!], num(a, "dim")),
  split: (i, a) => i.a!.split(a["sizes"] as number | number[], num(a, "dim")),
  chunk: (i, a) => i.a!.chunk(num(a, "chunks"), num(a, "dim")),
  matmul: (i) => i.a!.matmul(i.b!),
  linear: (i) => F.linear(i.x!, i.w!, i.b!),
  conv2d: (i, a) =>
    F.conv2d(i.x!, i.w!, i.b ?? null, {
      stride: num(a, "stride"),
      padding: num(a, "padding"),
      dilation: num(a, "dilation"),
      groups: num(a, "groups"),
    }),
  batch_norm: (i, a) => [
    F.batchNorm(i.x!, {
      weight: i.w!,
      bias: i.b!,
      runningMean: i.rm!,
      runningVar: i.rv!,
      training: a["training"] as boolean,
      momentum: num(a, "momentum"),
      eps: num(a, "eps"),
    }),
    i.rm!,
    i.rv!,
  ],
  max_pool2d: (i, a) => F.maxPool2d(i.x!, num(a, "k"), { stride: num(a, "s"), padding: num(a, "p") }),
  avg_pool2d: (i, a) => F.avgPool2d(i.x!, num(a, "k"), { stride: num(a, "s") }),
  upsample_nearest: (i, a) => F.upsampleNearest2d(i.x!, { scaleFactor: num(a, "scale") }),
  bce: (i, a) => F.bceWithLogits(i.x!, i.y!, { reduction: a["reduction"] as F.Reduction }),
  bce_pw: (i, a) => F.bceWithLogits(i.x!, i.y!, { posWeight: i.pw!, reduction: a["reduction"] as F.Reduction }),
  bce_w: (i, a) => F.bceWithLogits(i.x!, i.y!, { weight: i.w!, reduction: a["reduction"] as F.Reduction }),
  cross_entropy: (i, a) => F.crossEntropy(i.x!, i.t!, { labelSmoothing: num(a, "smoothing") }),
  to_float64: (i) => i.a!.to("float64").mul(3),
  yolo_decode: (i) => yoloDecode(i.p!, i.anchors!),
  topk: (i, a) => i.a!.topk(num(a, "k"), num(a, "dim"), a["largest"] as boolean),
  sort: (i, a) => i.a!.sort(num(a, "dim"), a["descending"] as boolean),
  sort_stable: (i) => i.a!.sort(-1, false, true),
  scatter: (i, a) => i.a!.scatter(num(a, "dim"), i.idx!, i.src!),
  scatter_add: (i, a) => i.a!.scatterAdd(num(a, "dim"), i.idx!, i.src!),
  index_put: (i, a) => i.a!.indexPut([i.i!], i.v!, a["accumulate"] as boolean),
  index_put_mask: (i, a) => i.a!.indexPut([i.m!], num(a, "value")),
  meshgrid: (i, a) => meshgrid([i.a!, i.b!], a["indexing"] as "ij" | "xy"),
  unique: (i) => {
    const u = i.a!.unique({ returnInverse: true, returnCounts: true });
    return [u.values, u.inverse, u.counts];
  },
  unique_dim: (i) => {
    const u = i.a!.unique({ returnInverse: true, returnCounts: true, dim: 0 });
    return [u.values, u.inverse, u.counts];
  },
  norm: (i, a) => i.a!.norm(num(a, "ord"), a["dims"] as number[]),
};

interface Case {
  name: string;
  op: string;
  inputs: Record<string, [number[], string]>;
  args?: Args;
  grad?: string[];
}

const spec = JSON.parse(readFileSync(fixturePath("ops.spec.json"), "utf8")) as { cases: Case[] };
const golden = loadGolden("ops.safetensors", "ops.py");
const ref = golden.ref;

describe("op parity with PyTorch 1.13.1", () => {
  test("every op of the spec has an implementation and fixtures", () => {
    for (const c of spec.cases) {
      assert.ok(OPS[c.op], `no TS implementation for op ${c.op}`);
      assert.ok(golden.tensors.has(`${c.name}/out/0`), `no fixture for ${c.name}`);
    }
  });

  for (const c of spec.cases) {
    test(c.name, () => {
      tidy(() => {
        const inputs: Inputs = {};
        for (const k of Object.keys(c.inputs)) {
          inputs[k] = ref(`${c.name}/in/${k}`).clone();
          if (c.grad?.includes(k)) inputs[k] = inputs[k].detach().requiresGrad_(true);
        }
        const result = OPS[c.op]!(inputs, c.args ?? {});
        const outputs = Array.isArray(result) ? result : [result];
        let loss: Tensor | null = null;
        outputs.forEach((o, n) => {
          assertClose(o, ref(`${c.name}/out/${n}`), `${c.name} out ${n}`);
          const gout = golden.tensors.get(`${c.name}/gout/${n}`);
          if (gout) {
            const term = o.mul(gout).sum();
            loss = loss === null ? term : loss.add(term);
          }
        });
        assert.equal(
          golden.tensors.has(`${c.name}/out/${outputs.length}`),
          false,
          `${c.name}: fewer outputs than PyTorch`,
        );
        if (c.grad && c.grad.length > 0) {
          assert.ok(loss, `${c.name}: no differentiable output`);
          (loss as Tensor).backward();
          for (const k of c.grad) {
            const g = inputs[k]!.grad;
            assert.ok(g, `${c.name}: no gradient for ${k}`);
            assertClose(g, ref(`${c.name}/grad/${k}`), `${c.name} grad ${k}`);
          }
        }
      });
    });
  }
});

test("float64 inputs keep float64 (type promotion follows PyTorch)", () => {
  tidy(() => {
    const x = tensor([1, 2], undefined, { dtype: "float64" });
    assert.equal(x.add(1).dtype, "float64");
    assert.equal(tensor([1, 2], undefined, { dtype: "int64" }).add(0.5).dtype, "float32");
    assert.equal(tensor([1, 2], undefined, { dtype: "int64" }).add(1).dtype, "int64");
  });
});
