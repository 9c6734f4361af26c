/**
 * Batch normalisation whose batch statistics cover every rank's images (PyTorch's SyncBatchNorm): each rank sums its
 * values and squares per channel, one differentiable all-reduce adds them up (its backward adds up the ranks'
 * gradients), and every rank normalises with the global mean and variance. Sums in float64, so E[x²] − E[x]² loses
 * nothing a single-process batch norm would keep.
 */
import type { ProcessGroup } from "../distributed.js";
import { noGrad } from "../grad-mode.js";
import { add_, mul_ } from "../inplace.js";
import { cat, full, type Tensor } from "../tensor.js";

/** What {@link syncBatchNorm} normalises with and updates. */
export interface SyncBatchNormState {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  momentum: number;
  eps: number;
}

/** Training-mode batch norm of x [N, C, H, W] with statistics over every rank of `group`; updates the running ones. */
export function syncBatchNorm(x: Tensor, s: SyncBatchNormState, group: ProcessGroup): Tensor {
  const c = x.size(1);
  const count = x.numel / c;
  const x64 = x.to("float64");
  const local = cat([x64.sum([0, 2, 3]), x64.mul(x64).sum([0, 2, 3]), full([1], count, { dtype: "float64" })]);
  const total = group.allReduceSumAutograd(local);
  const n = total.slice(0, 2 * c, 2 * c + 1).item() as number;
  const mean = total.slice(0, 0, c).div(n);
  const variance = total
    .slice(0, c, 2 * c)
    .div(n)
    .sub(mean.mul(mean));
  noGrad(() => {
    mul_(s.runningMean, 1 - s.momentum);
    add_(s.runningMean, mean.detach().to("float32"), s.momentum);
    mul_(s.runningVar, 1 - s.momentum);
    add_(
      s.runningVar,
      variance
        .detach()
        .mul(n / Math.max(n - 1, 1))
        .to("float32"),
      s.momentum,
    );
  });
  const shape = [1, c, 1, 1];
  const scale = variance
    .add(s.eps)
    .pow(-0.5)
    .to("float32")
    .view(...shape);
  return x
    .sub(mean.to("float32").view(...shape))
    .mul(scale)
    .mul(s.weight.view(...shape))
    .add(s.bias.view(...shape));
}
