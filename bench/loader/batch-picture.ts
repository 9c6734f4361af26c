/**
 * Writes the example train-batch picture docs/train_batch0.jpg: the first training batch (mosaic, mixup, warp, HSV,
 * flips at hyp.scratch-high) of a synthetic sparse-label smear dataset, with boxes and the region mask drawn.
 *
 *   bin/sladet-node dist/bench/loader/batch-picture.js [out.jpg]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { saveBatchPicture } from "../../src/data/batch-picture.js";
import { DataLoader, loadSplitItems } from "../../src/data/loader.js";
import { MIXED_SPECS, writeSmearDataset } from "../../test/data/smear-fixture.js";

async function main(): Promise<void> {
  // dist/bench/loader/ → the repository root
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const out = process.argv[2] ?? join(root, "docs", "train_batch0.jpg");
  const dir = mkdtempSync(join(tmpdir(), "sladet-picture-"));
  try {
    const yaml = await writeSmearDataset(
      dir,
      [...MIXED_SPECS, ...MIXED_SPECS].map((s) => ({ ...s, cells: 18 })),
      3,
    );
    const items = await loadSplitItems(yaml, "train", { cache: false });
    const loader = new DataLoader({ items, imgSize: 640, batchSize: 9, augment: true, seed: 6, workers: 1 });
    try {
      for await (const batch of loader.rawEpoch(0)) {
        await saveBatchPicture(out, batch, {
          files: batch.indices.map((i) => items[i]!.image),
          maxSize: 1152,
          quality: 80,
        });
        break;
      }
    } finally {
      await loader.dispose();
    }
    console.log(`wrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
