import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { PADDING_MASK } from "../../src/data/augment/index.js";
import { saveBatchPicture } from "../../src/data/batch-picture.js";
import {
  DataLoader,
  type EpochOptions,
  type LoaderItem,
  type LoaderOptions,
  loadSplitItems,
} from "../../src/data/loader.js";
import type { RawBatch } from "../../src/data/raw-batch.js";
import { REPO_ROOT } from "../helpers.js";
import { MIXED_SPECS, writeSmearDataset } from "./smear-fixture.js";

let dir = "";
let items: LoaderItem[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sladet-loader-"));
  await writeSmearDataset(dir, MIXED_SPECS);
  items = await loadSplitItems(join(dir, "data.yaml"), "train", { cache: false });
});
after(() => {
  if (!process.env["KEEP_TMP"]) rmSync(dir, { recursive: true, force: true });
});

async function collect(
  options: Omit<LoaderOptions, "items">,
  epoch = 0,
  list = items,
  epochOptions: EpochOptions = {},
): Promise<RawBatch[]> {
  const loader = new DataLoader({ items: list, ...options });
  try {
    const out: RawBatch[] = [];
    for await (const b of loader.rawEpoch(epoch, 0, epochOptions)) out.push(b);
    return out;
  } finally {
    await loader.dispose();
  }
}

function assertSameBatches(a: RawBatch[], b: RawBatch[], what: string): void {
  assert.equal(a.length, b.length, `${what}: batch count`);
  a.forEach((x, i) => {
    const y = b[i]!;
    assert.deepEqual(x.indices, y.indices, `${what}: batch ${i} indices`);
    assert.deepEqual([x.size, x.height, x.width, x.numTargets], [y.size, y.height, y.width, y.numTargets]);
    assert.ok(Buffer.from(x.images.buffer).equals(Buffer.from(y.images.buffer)), `${what}: batch ${i} images`);
    assert.ok(Buffer.from(x.masks.buffer).equals(Buffer.from(y.masks.buffer)), `${what}: batch ${i} masks`);
    assert.deepEqual(x.targets, y.targets, `${what}: batch ${i} targets`);
  });
}

describe("loader: items and determinism", () => {
  test("loadSplitItems reads sizes, regions (null = dense) and labels", () => {
    assert.equal(items.length, MIXED_SPECS.length);
    assert.deepEqual(
      items.map((it) => [it.width, it.height]),
      MIXED_SPECS.map((s) => [s.width, s.height]),
    );
    assert.deepEqual(
      items.map((it) => it.region),
      MIXED_SPECS.map((s) => s.region),
    );
    assert.ok(items.every((it) => it.labels.length > 0));
  });

  test("identical batches for the same (seed, epoch, index) with 0, 1 or 3 workers", async () => {
    const base = { imgSize: 128, batchSize: 4, augment: true, seed: 11 } as const;
    for (const epoch of [0, 1]) {
      const inline = await collect({ ...base, workers: 0 }, epoch);
      assertSameBatches(inline, await collect({ ...base, workers: 1 }, epoch), `epoch ${epoch}, 1 worker`);
      assertSameBatches(
        inline,
        await collect({ ...base, workers: 3, prefetch: 2 }, epoch),
        `epoch ${epoch}, 3 workers`,
      );
    }
    const e0 = await collect({ ...base, workers: 0 }, 0);
    const e1 = await collect({ ...base, workers: 0 }, 1);
    assert.notDeepEqual(
      e0[0]!.indices.concat(e0[1]!.indices),
      e1[0]!.indices.concat(e1[1]!.indices),
      "epochs reshuffle",
    );
    assert.deepEqual([...e0[0]!.indices, ...e0[1]!.indices].sort(), [0, 1, 2, 3, 4, 5], "each image once per epoch");
  });

  test("a closed-mosaic epoch (close_mosaic) is the same epoch of a loader with mosaic 0 and mixup 0", async () => {
    const base = { imgSize: 128, batchSize: 3, augment: true, seed: 5, workers: 1 } as const;
    const mosaicHyp = { mosaic: 1, mixup: 0.5 };
    const closed = await collect({ ...base, hyp: mosaicHyp }, 2, items, { closeMosaic: true });
    const plain = await collect({ ...base, hyp: { mosaic: 0, mixup: 0 } }, 2);
    assertSameBatches(closed, plain, "closed mosaic");
    const open = await collect({ ...base, hyp: mosaicHyp }, 2);
    assert.ok(
      !Buffer.from(open[0]!.images.buffer).equals(Buffer.from(plain[0]!.images.buffer)),
      "mosaic epochs differ",
    );
  });
});

describe("loader: the batch contract (design.md §7.1)", () => {
  test("train batches: images float32 [B,3,H,W] in 0..1, targets [N,13], regionMask and imageMask uint8 [B,1,H,W] of 0/1", async () => {
    const loader = new DataLoader({ items, imgSize: 128, batchSize: 4, augment: true, workers: 1, seed: 2 });
    try {
      let seen = 0;
      let padding = 0;
      for await (const batch of loader.epoch(0)) {
        const B = batch.indices.length;
        assert.deepEqual(batch.images.shape, [B, 3, 128, 128]);
        assert.equal(batch.images.dtype, "float32");
        assert.equal(batch.regionMask.dtype, "uint8");
        assert.deepEqual(batch.regionMask.shape, [B, 1, 128, 128]);
        assert.equal(batch.targets.dtype, "float32");
        assert.equal(batch.targets.shape[1], 13);
        const px = batch.images.toArray();
        assert.ok(px.every((v) => v >= 0 && v <= 1));
        // the workers send bytes; the values are pixel / 255 in float32, as if divided in JavaScript
        assert.ok(px.every((v) => v === Math.fround(Math.round(v * 255) / 255)));
        const region = batch.regionMask.toArray();
        assert.ok(region.every((v) => v === 0 || v === 1));
        // imageMask: 0 on the padding grey (mosaic canvas, warp borders), where nothing is labelled
        assert.equal(batch.imageMask.dtype, "uint8");
        assert.deepEqual(batch.imageMask.shape, [B, 1, 128, 128]);
        const onImage = batch.imageMask.toArray();
        assert.ok(onImage.every((v, i) => (v === 0 || v === 1) && !(v === 0 && region[i] === 1)));
        padding += onImage.filter((v) => v === 0).length;
        const t = batch.targets.toArray();
        for (let r = 0; r < batch.targets.shape[0]!; r++) {
          const row = t.slice(r * 13, r * 13 + 13);
          assert.ok(Number.isInteger(row[0]) && row[0]! >= 0 && row[0]! < B, `image index ${row[0]}`);
          assert.ok(Number.isInteger(row[1]) && row[1]! >= 0 && row[1]! < 14, `class ${row[1]}`);
          for (const v of row.slice(2, 6)) assert.ok(v >= 0 && v <= 1, `box ${row.slice(2, 6)}`);
          assert.ok(row[4]! > 0 && row[5]! > 0);
          for (const a of row.slice(6))
            assert.ok(a === -1 || (Number.isInteger(a) && a >= 0 && a <= 2), `attribute ${a}`);
        }
        assert.equal(batch.files[0], items[batch.indices[0]!]!.image);
        batch.dispose();
        seen++;
      }
      assert.equal(seen, loader.batchCount);
      assert.ok(padding > 0, "mosaic and warp leave padding in some image");
      assert.equal(loader.batchCount, 2);
      assert.equal(loader.length, 6);
    } finally {
      await loader.dispose();
    }
  });

  test("rect validation: YOLOv5 shapes, letterboxed boxes, dense image all ones inside, border not labelled", async () => {
    const loader = new DataLoader({ items, imgSize: 640, batchSize: 2, rect: true, workers: 1 });
    try {
      // ratios h/w: 0.75, 1, 0.75, 1.333, 1, 0.75 → sorted [0, 2, 5 | 1, 4 | 3] in batches of 2
      assert.deepEqual(loader.batchShapes(), [
        [512, 672],
        [672, 672],
        [672, 672],
      ]);
      const batches: RawBatch[] = [];
      for await (const b of loader.rawEpoch(0)) batches.push(b);
      assert.deepEqual(
        batches.map((b) => b.indices),
        [
          [0, 2],
          [5, 1],
          [4, 3],
        ],
      );
      // image 0: 640×480 into 512×672, not enlarged: 16 px border on every side
      const b0 = batches[0]!;
      const item0 = items[0]!;
      const label0 = item0.labels[0]!;
      const row = Array.from(b0.targets.subarray(0, 13));
      assert.equal(row[0], 0);
      assert.ok(Math.abs(row[2]! - (label0.xc * 640 + 16) / 672) < 1e-5);
      assert.ok(Math.abs(row[3]! - (label0.yc * 480 + 16) / 512) < 1e-5);
      assert.ok(Math.abs(row[4]! - (label0.w * 640) / 672) < 1e-5);
      // image 2 (800×600, dense) is the second of batch 0: loaded at 640×480, all ones inside, padding in the border
      const plane = 512 * 672;
      const mask = b0.masks.subarray(plane, 2 * plane);
      for (let y = 0; y < 512; y += 7) {
        for (let x = 0; x < 672; x += 7) {
          const inside = x >= 16 && x < 656 && y >= 16 && y < 496;
          assert.equal(mask[y * 672 + x], inside ? 1 : PADDING_MASK, `(${x}, ${y})`);
        }
      }
      // image 0's region (100,80)-(400,330) shifted by the border
      const m0 = b0.masks.subarray(0, plane);
      assert.equal(m0[(80 + 16) * 672 + 100 + 16], 1);
      assert.equal(m0[(80 + 15) * 672 + 100 + 16], 0);
      assert.equal(m0[(330 + 15) * 672 + 400 + 15], 1);
      assert.equal(m0[(330 + 16) * 672 + 400 + 15], 0);
      await saveBatchPicture(join(dir, "val.jpg"), b0);
    } finally {
      await loader.dispose();
    }
  });
});

describe("loader: caches", () => {
  test("RAM and disk caches give the same batches as decoding; disk entries are reused and corrupt ones ignored", async () => {
    const base = { imgSize: 128, batchSize: 3, augment: true, seed: 4, workers: 2 } as const;
    const plain = await collect(base, 1);
    const ram = new DataLoader({ items, ...base, cache: "ram" });
    try {
      assert.equal(ram.cacheMode, "ram");
      const progress: number[] = [];
      await ram.fillCache((done, total) => {
        assert.equal(total, 6);
        progress.push(done);
      });
      assert.equal(progress.at(-1), 6);
      const got: RawBatch[] = [];
      for await (const b of ram.rawEpoch(1)) got.push(b);
      assertSameBatches(plain, got, "ram cache");
    } finally {
      await ram.dispose();
    }
    const cacheDir = join(dir, "cache");
    assertSameBatches(plain, await collect({ ...base, cache: "disk", cacheDir }, 1), "disk cache (filling)");
    const folder = join(cacheDir, "images-128-linear");
    const files = readdirSync(folder).filter((f) => f.endsWith(".rgb"));
    assert.equal(files.length, 6);
    const header = readFileSync(join(folder, files[0]!)).subarray(0, 4).toString("latin1");
    assert.equal(header, "SLDI");
    truncateSync(join(folder, files[0]!), 100);
    assertSameBatches(plain, await collect({ ...base, cache: "disk", cacheDir }, 1), "disk cache (reading)");
    rmSync(cacheDir, { recursive: true });
  });
});

describe("loader: the fine view (attr_image_scale)", () => {
  test("training and validation batches carry it at k× the images; a RAM cache gives the same pixels", async () => {
    const base = { imgSize: 128, batchSize: 3, augment: true, seed: 4, workers: 1, fine: { scale: 2, hsv: 0 } };
    const decoded = await collect(base, 1);
    const cached = await collect({ ...base, cache: "ram" }, 1);
    const again = await collect({ ...base, cache: "ram" }, 1);
    assertSameBatches(decoded, cached, "ram cache");
    decoded.forEach((x, i) => {
      assert.equal(x.fineScale, 2);
      assert.equal(x.fineImages!.length, 4 * x.images.length, `batch ${i}: [B, 3, 2H, 2W]`);
      for (const other of [cached[i]!, again[i]!])
        assert.ok(Buffer.from(x.fineImages!.buffer).equals(Buffer.from(other.fineImages!.buffer)), `batch ${i}`);
    });
    const plain = await collect({ ...base, fine: undefined }, 1);
    assertSameBatches(decoded, plain, "the detector's batches do not depend on the fine view");
    assert.equal(plain[0]!.fineImages, undefined);
    const val = await collect({ imgSize: 128, batchSize: 3, rect: true, workers: 0, fine: { scale: 3 } });
    for (const b of val) assert.equal(b.fineImages!.length, 9 * b.images.length);
    assert.throws(() => new DataLoader({ items, imgSize: 128, batchSize: 3, fine: { scale: 5 } }), /from 1 to 4/);
  });
});

describe("loader: workers, errors and lifetime", () => {
  test("the worker's import graph never reaches the engine (design.md §2 lesson 8)", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      for (const m of source.matchAll(
        /(?:import|export)[^"']*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g,
      )) {
        visit(resolve(dirname(file), (m[1] ?? m[2])!));
      }
    };
    visit(join(REPO_ROOT, "dist", "src", "data", "loader-worker.js"));
    assert.ok(seen.size > 5, `only ${seen.size} modules found`);
    const torch = [...seen].filter((f) => f.includes(`${join("dist", "src", "torch")}`));
    assert.deepEqual(torch, []);
  });

  test("a missing image fails its batch with the file's name; the worker keeps serving", async () => {
    const broken = [...items, { ...items[0]!, image: join(dir, "images", "train", "gone.png") }];
    const loader = new DataLoader({ items: broken, imgSize: 64, batchSize: 3, workers: 1 });
    try {
      // batches of 3: [0 1 2] [3 4 5] [gone]
      const iterator = loader.rawEpoch(0);
      assert.equal((await iterator.next()).done, false);
      assert.equal((await iterator.next()).done, false);
      await assert.rejects(iterator.next(), /gone\.png/);
      const again: RawBatch[] = [];
      for await (const b of loader.rawEpoch(0)) {
        again.push(b);
        break;
      }
      assert.equal(again.length, 1);
    } finally {
      await loader.dispose();
    }
  });

  test("dispose stops the workers; a disposed loader refuses to iterate", async () => {
    const loader = new DataLoader({ items, imgSize: 64, batchSize: 6, workers: 2 });
    const first = await loader.rawEpoch(0).next();
    assert.equal(first.value?.size, 6);
    await loader.dispose();
    await assert.rejects(loader.rawEpoch(1).next(), /disposed/);
  });

  test("options are checked", () => {
    assert.throws(() => new DataLoader({ items: [] }), /no images/);
    assert.throws(() => new DataLoader({ items, rect: true, augment: true, workers: 0 }), /rect/);
    assert.throws(() => new DataLoader({ items, batchSize: 0, workers: 0 }), /batchSize/);
    assert.throws(() => new DataLoader({ items, augment: true, hyp: { mosaic: 2 }, workers: 0 }), /probability/);
  });
});

describe("batch picture", () => {
  test("renders a grid JPEG of the batch", async () => {
    const [batch] = await collect({ imgSize: 128, batchSize: 6, augment: true, workers: 0, seed: 1 });
    const { renderBatchPicture } = await import("../../src/data/batch-picture.js");
    const jpeg = await renderBatchPicture(batch!, { files: batch!.indices.map((i) => items[i]!.image) });
    const sharp = (await import("sharp")).default;
    const meta = await sharp(jpeg).metadata();
    assert.equal(meta.format, "jpeg");
    // 6 images → a 3×3 grid of 128 px tiles, two rows used
    assert.deepEqual([meta.width, meta.height], [384, 256]);
  });
});

test("held-out objects ride through augmentation into Batch.heldout, never into the targets", async () => {
  const item: LoaderItem = {
    ...items[0]!,
    region: { x1: 0, y1: 0, x2: items[0]!.width / 2, y2: items[0]!.height },
    labels: [{ cls: 1, xc: 0.25, yc: 0.5, w: 0.1, h: 0.1, attributes: [] }],
    heldout: [
      { cls: 2, xc: 0.75, yc: 0.5, w: 0.1, h: 0.1, attributes: [] },
      { cls: 0, xc: 0.8, yc: 0.2, w: 0.1, h: 0.1, attributes: [] },
    ],
  };
  const [plain] = await collect({ imgSize: 64, batchSize: 1, workers: 0, numAttributes: 0 }, 0, [item]);
  assert.equal(plain!.numTargets, 1);
  assert.deepEqual(Array.from(plain!.targets.subarray(0, 2)), [0, 1]);
  assert.equal(plain!.heldout.length, 12, "two held-out rows of 6");
  assert.deepEqual([plain!.heldout[1], plain!.heldout[7]], [2, 0], "classes restored");
  assert.ok(Math.abs(plain!.heldout[2]! - 0.75) < 0.02, "normalised to the input like the targets");
  // under full augmentation they stay apart from the targets, whatever mosaic and the affine do to them
  const augmented = await collect({ imgSize: 64, batchSize: 4, workers: 0, numAttributes: 0, augment: true }, 1, [
    item,
    item,
    item,
    item,
  ]);
  for (const b of augmented) {
    for (let r = 0; r < b.numTargets; r++) assert.equal(b.targets[r * 6 + 1], 1, "only the labelled class is a target");
    for (let r = 0; r < b.heldout.length / 6; r++) assert.ok([0, 2].includes(b.heldout[r * 6 + 1]!));
  }
});
