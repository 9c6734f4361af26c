// Detect white cells and their attributes in a folder of images and print one row per cell.
// Run it with jemalloc preloaded (the launcher does that):  npx sladet-node detect-folder.mjs <weights> <folder> [imgsz] [conf]
// <weights>: a run folder (its weights/best), a .safetensors checkpoint, a YOLOv5 .pt or an .onnx export.
import { basename } from "node:path";
import { DEFAULT_IMG_SIZE, DETECT_CONF_THRES, listSources, load } from "sladet";

const [weights, folder, imgsz = String(DEFAULT_IMG_SIZE), conf = String(DETECT_CONF_THRES)] = process.argv.slice(2);
if (!weights || !folder) throw new Error("usage: detect-folder.mjs <weights> <folder> [imgsz] [conf]");

const detector = await load(weights);
try {
  const { images } = await listSources(folder);
  const results = await detector.detect(images, { imgsz: Number(imgsz), confThres: Number(conf) });
  const rows = [["image", "cell", "class", "conf", "x1", "y1", "x2", "y2", "attributes"]];
  for (const { source, cells } of results) {
    cells.forEach((cell, i) => {
      const attributes = Object.entries(cell.attributes ?? {})
        .map(([name, a]) => `${name}=${a.value} (${a.probabilities[a.index].toFixed(2)})`)
        .join(", ");
      const box = cell.box.map((v) => v.toFixed(0));
      rows.push([basename(source), String(i + 1), cell.name, cell.confidence.toFixed(3), ...box, attributes]);
    });
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const row of rows)
    console.log(
      row
        .map((v, c) => v.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    );
  const cells = rows.length - 1;
  console.log(
    `${cells} cells in ${results.length} images (${detector.info.backend}, classes: ${detector.names.join(", ")})`,
  );
} finally {
  await detector.dispose();
}
