/**
 * YOLOv5's Detect head: one 1×1 convolution per level giving na·(nc+5) channels, reshaped to [B, na, H, W, nc+5]
 * (training output), and decoded to boxes in input pixels (inference output). Anchors are a buffer in grid units
 * (`anchors`, [nl, na, 2]), as in Ultralytics checkpoints (possibly evolved by AutoAnchor).
 */
import {
  arange,
  Buffer,
  Conv2d,
  cat,
  Module,
  ModuleList,
  meshgrid,
  noGrad,
  stack,
  type Tensor,
  tensor,
  tidy,
} from "../torch/index.js";
import {
  BIAS_PRIOR_CLASS,
  BIAS_PRIOR_CLASS_OFFSET,
  BIAS_PRIOR_IMAGE_SIZE,
  BIAS_PRIOR_OBJECTS,
  BOX_OUTPUTS,
  WH_SCALE,
  XY_OFFSET,
  XY_SCALE,
} from "./constants.js";

export class Detect extends Module {
  /** Outputs per anchor: nc + 5. */
  readonly no: number;
  /** Detection levels. */
  readonly nl: number;
  /** Anchors per level. */
  readonly na: number;
  readonly m: ModuleList<Conv2d>;
  /** [nl, na, 2] anchor (w, h) in grid units of each level (pixels / stride). */
  readonly anchors: Buffer;
  /** Stride of each level in input pixels (set by the model's dry run or from a checkpoint). */
  stride: number[] = [];
  readonly #grids = new Map<string, Tensor>();

  /**
   * @param nc classes.
   * @param anchorsPx per level, (w, h) pairs in pixels (converted to grid units by {@link setStrides}).
   * @param ch input channels of each level.
   */
  constructor(
    readonly nc: number,
    anchorsPx: readonly (readonly number[])[],
    ch: readonly number[],
  ) {
    super();
    this.no = nc + BOX_OUTPUTS;
    this.nl = anchorsPx.length;
    this.na = (anchorsPx[0]?.length ?? 0) / 2;
    if (ch.length !== this.nl) throw new Error(`Detect: ${this.nl} anchor levels but ${ch.length} inputs`);
    this.anchors = this.registerBuffer("anchors", new Buffer(tensor(anchorsPx.flat(), [this.nl, this.na, 2])));
    this.m = this.registerModule("m", new ModuleList(ch.map((c) => new Conv2d(c, this.no * this.na, 1))));
  }

  /**
   * Records the strides measured by a dry run, puts the anchors in the order of the strides (YOLOv5's
   * check_anchor_order: anchor area must grow with stride) and converts them from pixels to grid units.
   */
  setStrides(stride: readonly number[]): void {
    if (stride.length !== this.nl) throw new Error(`Detect: ${stride.length} strides for ${this.nl} levels`);
    this.stride = [...stride];
    noGrad(() => {
      const a = this.anchors.data;
      const area = a.toArray();
      const levelArea = (l: number) => {
        let s = 0;
        for (let k = 0; k < this.na; k++) s += area[(l * this.na + k) * 2]! * area[(l * this.na + k) * 2 + 1]!;
        return s / this.na;
      };
      const da = levelArea(this.nl - 1) - levelArea(0);
      const ds = stride[this.nl - 1]! - stride[0]!;
      const ordered = da !== 0 && Math.sign(da) !== Math.sign(ds) ? a.flip(0) : a.clone();
      this.anchors.data = tidy(() => ordered.div(tensor([...stride]).view(-1, 1, 1)));
      ordered.dispose();
    });
  }

  /**
   * YOLOv5's bias initialisation: objectness ≈ 8 objects per 640² image at each level's stride, classes
   * ≈ 0.6/(nc − 0.99999). Call after {@link setStrides}.
   */
  initBiases(): void {
    noGrad(() => {
      for (const [i, conv] of this.m.items.entries()) {
        const s = this.stride[i];
        if (s === undefined || !conv.bias) throw new Error("Detect.initBiases: strides are not set");
        const b = conv.bias.data.toTypedArray<"float32">();
        // float32 priors, added in float32 as PyTorch's in-place add of a Python float
        const obj = Math.fround(Math.log(BIAS_PRIOR_OBJECTS / (BIAS_PRIOR_IMAGE_SIZE / s) ** 2));
        const cls = Math.fround(Math.log(BIAS_PRIOR_CLASS / (this.nc - BIAS_PRIOR_CLASS_OFFSET)));
        for (let a = 0; a < this.na; a++) {
          b[a * this.no + 4]! += obj;
          for (let c = 0; c < this.nc; c++) b[a * this.no + BOX_OUTPUTS + c]! += cls;
        }
        conv.bias.data = tensor(b);
      }
    });
  }

  /** Raw maps: level i → [B, na, H_i, W_i, nc+5] (the training output). */
  forward(xs: readonly Tensor[]): Tensor[] {
    if (xs.length !== this.nl) throw new Error(`Detect: expected ${this.nl} inputs, found ${xs.length}`);
    return xs.map((x, i) =>
      tidy(() => {
        const [bs, , ny, nx] = x.shape as [number, number, number, number];
        return this.m.at(i).forward(x).view(bs, this.na, this.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous();
      }),
    );
  }

  /**
   * Decodes raw maps to [B, N, nc+5] rows of (x, y, w, h) in input pixels, objectness and class probabilities:
   * xy = (2σ − 0.5 + grid)·stride, wh = (2σ)²·anchor·stride.
   */
  decode(maps: readonly Tensor[]): Tensor {
    if (this.stride.length !== this.nl) throw new Error("Detect.decode: strides are not set");
    return tidy(() => {
      const rows = maps.map((p, i) => {
        const [bs, , ny, nx] = p.shape as [number, number, number, number];
        const stride = this.stride[i]!;
        const y = p.sigmoid();
        const xy = y
          .slice(-1, 0, 2)
          .mul(XY_SCALE)
          .sub(XY_OFFSET)
          .add(this.#grid(ny, nx, p.device))
          .mul(stride);
        const anchorPx = this.anchors.data.select(0, i).mul(stride).view(1, this.na, 1, 1, 2);
        const wh = y.slice(-1, 2, 4).mul(WH_SCALE).pow(2).mul(anchorPx);
        return cat([xy, wh, y.slice(-1, 4)], -1).view(bs, -1, this.no);
      });
      return cat(rows, 1);
    });
  }

  /** [1, 1, ny, nx, 2] cell (x, y) offsets, cached per size and device. */
  #grid(ny: number, nx: number, device: string): Tensor {
    const key = `${ny}x${nx}@${device}`;
    let g = this.#grids.get(key);
    if (!g) {
      g = tidy(() => {
        const [yv, xv] = meshgrid(
          [
            arange(ny, undefined, 1, { dtype: "float32", device }),
            arange(nx, undefined, 1, { dtype: "float32", device }),
          ],
          "ij",
        ) as [Tensor, Tensor];
        return stack([xv, yv], 2).view(1, 1, ny, nx, 2);
      }).keep();
      this.#grids.set(key, g);
    }
    return g;
  }

  /** Frees the cached grids (they are rebuilt on demand). */
  clearCache(): void {
    for (const g of this.#grids.values()) g.dispose();
    this.#grids.clear();
  }

  override dispose(): void {
    this.clearCache();
    super.dispose();
  }
}
