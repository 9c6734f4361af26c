/**
 * roiAlign, nms, batchedNms and boxIou against torchvision 0.14.1 (fixtures by tools/oracle/vision.py): forward and
 * input gradient of RoIAlign over edge-case boxes, every sampling mode and both alignments; NMS tie order, thresholds
 * and degenerate boxes; both batched-NMS strategies. Plus memory flatness and readable errors.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  batchedNms,
  boxIou,
  inferenceMode,
  memoryStats,
  nms,
  noGrad,
  roiAlign,
  tensor,
  tidy,
  zeros,
} from "../../src/torch/index.js";
import { assertClose, loadGolden } from "../helpers.js";

interface RoiCase {
  name: string;
  kind: "roi_align";
  output_size: number | [number, number];
  spatial_scale: number;
  sampling_ratio: number;
  aligned: boolean;
  dtype: string;
  as_list: number[] | null;
}
interface NmsCase {
  name: string;
  kind: "nms" | "batched_nms";
  iou_threshold: number;
}
type Case = RoiCase | NmsCase | { name: string; kind: "box_iou" };

const golden = loadGolden("vision.safetensors", "vision.py");
const ref = golden.ref;
const cases = JSON.parse(golden.metadata["cases"] ?? "[]") as Case[];

test("the fixture was written by torchvision and holds every kind of case", () => {
  assert.match(golden.metadata["torchvision"] ?? "", /^0\.14/);
  const kinds = new Set(cases.map((c) => c.kind));
  assert.deepEqual([...kinds].sort(), ["batched_nms", "box_iou", "nms", "roi_align"]);
  assert.ok(cases.length >= 30, `${cases.length} cases`);
});

describe("roiAlign matches torchvision.ops.roi_align (forward and input gradient)", () => {
  for (const c of cases.filter((c): c is RoiCase => c.kind === "roi_align")) {
    test(c.name, () => {
      tidy(() => {
        const input = ref(`${c.name}/input`).clone().requiresGrad_(true);
        const rois = c.as_list === null ? ref(`${c.name}/rois`) : c.as_list.map((_, i) => ref(`${c.name}/boxes/${i}`));
        const out = roiAlign(input, rois, c.output_size, {
          spatialScale: c.spatial_scale,
          samplingRatio: c.sampling_ratio,
          aligned: c.aligned,
        });
        assertClose(out, ref(`${c.name}/out`), `${c.name} out`);
        out
          .mul(ref(`${c.name}/gout`))
          .sum()
          .backward();
        const grad = input.grad;
        assert.ok(grad, `${c.name}: no gradient reached the input`);
        assertClose(grad, ref(`${c.name}/grad`), `${c.name} grad`);
      });
    });
  }
});

describe("nms and batchedNms match torchvision (same indices, same order)", () => {
  for (const c of cases.filter((c): c is NmsCase => c.kind === "nms" || c.kind === "batched_nms")) {
    test(c.name, () => {
      tidy(() => {
        const boxes = ref(`${c.name}/boxes`);
        const scores = ref(`${c.name}/scores`);
        const keep =
          c.kind === "nms"
            ? nms(boxes, scores, c.iou_threshold)
            : batchedNms(boxes, scores, ref(`${c.name}/idxs`), c.iou_threshold);
        assert.equal(keep.dtype, "int64");
        assert.deepEqual(keep.shape, ref(`${c.name}/keep`).shape);
        assert.deepEqual(keep.toArray(), ref(`${c.name}/keep`).toArray());
      });
    });
  }

  test("tie order, threshold equality and empty input, spelled out", () => {
    tidy(() => {
      // Equal scores keep their original order (torchvision sorts stably).
      const disjoint = tensor([
        [0, 0, 1, 1],
        [2, 0, 3, 1],
        [4, 0, 5, 1],
      ]);
      assert.deepEqual(nms(disjoint, tensor([0.5, 0.5, 0.5]), 0.5).toArray(), [0, 1, 2]);
      // IoU exactly 0.5 survives a threshold of 0.5 and is dropped below it.
      const half = tensor([
        [0, 0, 4, 4],
        [0, 0, 4, 2],
      ]);
      assert.deepEqual(nms(half, tensor([0.6, 0.9]), 0.5).toArray(), [1, 0]);
      assert.deepEqual(nms(half, tensor([0.6, 0.9]), 0.49).toArray(), [1]);
      // Different categories never suppress each other.
      assert.deepEqual(
        batchedNms(half, tensor([0.6, 0.9]), tensor([0, 1], undefined, { dtype: "int64" }), 0.1).toArray(),
        [1, 0],
      );
      assert.deepEqual(nms(zeros([0, 4]), zeros([0]), 0.5).shape, [0]);
    });
  });
});

test("boxIou matches torchvision.ops.box_iou (NaN for two empty boxes)", () => {
  tidy(() => assertClose(boxIou(ref("box_iou/a"), ref("box_iou/b")), ref("box_iou/iou"), "box_iou"));
});

describe("roiAlign behaviour", () => {
  test("the seed's call: (24, 30) bins with the defaults; a constant map pools to the constant", () => {
    tidy(() => {
      // A constant map: every bin of a box inside it averages to the constant.
      const x = zeros([1, 4, 20, 20]).add(2.5);
      const y = roiAlign(x, tensor([[0, 3, 4, 12, 15]]), [24, 30]);
      assert.deepEqual(y.shape, [1, 4, 24, 30]);
      assertClose(y, zeros([1, 4, 24, 30]).add(2.5), "constant map");
    });
  });

  test("no graph under noGrad and inferenceMode; the RoIs get no gradient", () => {
    tidy(() => {
      const x = zeros([1, 2, 8, 8]).add(1).requiresGrad_(true);
      const rois = tensor([[0, 1, 1, 5, 6]]).requiresGrad_(true);
      assert.equal(
        noGrad(() => roiAlign(x, rois, 2).requiresGrad),
        false,
      );
      assert.equal(
        inferenceMode(() => roiAlign(x, rois, 2).requiresGrad),
        false,
      );
      roiAlign(x, rois, 2).sum().backward();
      assert.ok(x.grad, "input gradient");
      assert.equal(rois.grad, null, "torchvision gives the boxes no gradient");
    });
  });

  test("non-finite boxes pool to 0 and an absurdly large adaptive grid is refused, without crashing", () => {
    tidy(() => {
      const x = zeros([1, 1, 6, 6]).add(1);
      const y = roiAlign(
        x,
        tensor([
          [0, Number.NaN, 1, 4, 4],
          [0, 1, 1, Number.POSITIVE_INFINITY, 4],
        ]),
        2,
      );
      assert.deepEqual(y.toArray(), [0, 0, 0, 0, 0, 0, 0, 0]);
      assert.throws(
        () => roiAlign(x, tensor([[0, 0, 0, 1e9, 1e9]]), 2),
        /^Error: roiAlign: a RoI of .* sampling points per bin; that is too many/,
      );
      // The same box with a fixed sampling ratio is fine (its samples fall outside the map but one).
      assert.deepEqual(roiAlign(x, tensor([[0, 0, 0, 1e9, 1e9]]), 2, { samplingRatio: 2 }).shape, [1, 1, 2, 2]);
    });
  });

  test("repeated forward+backward inside tidy keeps native memory and the tensor count flat", () => {
    const x = zeros([2, 8, 32, 32]).add(0.5).requiresGrad_(true).keep();
    const rois = tensor([
      [0, 1, 2, 20, 25],
      [1, -3, 4, 40, 12],
      [1, 5, 5, 5, 9],
    ]).keep();
    const snapshots: Array<{ allocatedBytes: number; liveTensors: number }> = [];
    for (let step = 0; step < 30; step++) {
      tidy(() => {
        const y = roiAlign(x, rois, [24, 30]);
        y.mul(y.detach()).sum().backward();
        x.setGrad(null);
      });
      const { allocatedBytes, liveTensors } = memoryStats();
      snapshots.push({ allocatedBytes, liveTensors });
    }
    assert.deepEqual(snapshots[29], snapshots[4], "memory after 30 steps equals memory after 5");
    x.dispose();
    rois.dispose();
  });

  test("bad arguments are readable JS errors", () => {
    tidy(() => {
      const x = zeros([2, 3, 8, 8]);
      const arg = (fn: () => unknown, message: RegExp) =>
        assert.throws(
          fn,
          (e: unknown) => e instanceof TypeError && message.test(e.message) && !/Exception raised/.test(e.message),
        );
      arg(
        () => roiAlign(x, tensor([[0, 1, 1, 4]]), 2),
        /^roiAlign: rois: expected a tensor of shape \[K, 5\].*found shape \[1, 4\]/,
      );
      arg(() => roiAlign(x, [tensor([[0, 1, 1, 4, 4]])], 2), /^roiAlign: rois\[0\]: expected boxes of shape \[L, 4\]/);
      arg(
        () => roiAlign(x, tensor([[0, 1, 1, 4, 4]]), [-1, 4]),
        /^roiAlign: outputSize: expected positive sizes, found \[-1, 4\]/,
      );
      arg(() => roiAlign(x, tensor([[0, 1, 1, 4, 4]]), [0, 4]), /outputSize: expected positive sizes/);
      arg(
        () => roiAlign(x, tensor([[2, 1, 1, 4, 4]]), 2),
        /^roiAlign: rois: batch index \(column 0\) must lie in \[0, 1\]/,
      );
      arg(() => roiAlign(x, tensor([[-1, 1, 1, 4, 4]]), 2), /batch index/);
      arg(
        () => roiAlign(zeros([3, 8, 8]), tensor([[0, 1, 1, 4, 4]]), 2),
        /^roiAlign: input: expected a feature map of shape \[N, C, H, W\]/,
      );
      arg(
        () => roiAlign(zeros([1, 1, 4, 4], { dtype: "int64" }), tensor([[0, 1, 1, 4, 4]]), 2),
        /input: expected float32 or float64, found int64/,
      );
      arg(
        () => nms(zeros([3, 4]), zeros([2]), 0.5),
        /^nms: scores: expected shape \[3\] \(one per box\), found shape \[2\]/,
      );
      arg(() => nms(zeros([3, 5]), zeros([3]), 0.5), /^nms: boxes: expected shape \[N, 4\]/);
      arg(() => batchedNms(zeros([3, 4]), zeros([3]), zeros([4]), 0.5), /^batchedNms: idxs: expected shape \[3\]/);
    });
  });
});
