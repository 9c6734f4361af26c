/**
 * The studio's two performance goals (issue 20): a 2,000-image dataset lists in under a second once it has been
 * scanned (the check cache), and panning a 640×640 field with 300 boxes stays smooth (the canvas's draw time per
 * frame, measured in headless Chromium while the mouse drags the view).
 *   bin/sladet-node dist/bench/studio/run.js [images=2000]
 * The dataset is 40 synthetic 640 px fields copied to the wanted count (listing cost does not depend on the pixels).
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { generateDataset } from "../../src/data/synth/index.js";
import { startStudio } from "../../src/studio/index.js";
import { browserEnv } from "../../test/report/browser.js";

const count = Number(process.argv[2] ?? 2000);
const root = mkdtempSync(join(tmpdir(), "sladet-bench-studio-"));
const BOXES = 300;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** 40 fields, the train ones copied to reach `count` images in all; one more field holds 300 boxes. */
async function makeDataset(): Promise<string> {
  await generateDataset({ out: root, images: 40, seed: 1, imageSize: 640, sparseArea: 0.2, split: [0.8, 0.1, 0.1] });
  const images = join(root, "images", "train");
  const labels = join(root, "labels", "train");
  const originals = readdirSync(images);
  for (let i = 40; i < count; i++) {
    const src = originals[i % originals.length]!.replace(/\.jpg$/, "");
    copyFileSync(join(images, `${src}.jpg`), join(images, `copy_${i}.jpg`));
    copyFileSync(join(labels, `${src}.txt`), join(labels, `copy_${i}.txt`));
    copyFileSync(join(labels, `${src}.region`), join(labels, `copy_${i}.region`));
  }
  copyFileSync(join(images, `${originals[0]}`), join(images, "boxes300.jpg"));
  const lines: string[] = [];
  for (let k = 0; k < BOXES; k++) {
    const [x, y] = [16 + (k % 20) * 31, 16 + Math.floor(k / 20) * 40];
    lines.push(`${k % 14} ${(x + 12) / 640} ${(y + 12) / 640} ${24 / 640} ${24 / 640} 0 0 640 640 1 0 1 0 1 0 2`);
  }
  writeFileSync(join(labels, "boxes300.txt"), `${lines.join("\n")}\n`);
  rmSync(join(labels, "boxes300.region"), { force: true });
  return join(root, "data.yaml");
}

async function timeList(port: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/images`, { headers: { "x-sladet-token": "bench" } });
  const list = (await res.json()) as unknown[];
  if (list.length < count) throw new Error(`listed ${list.length} of ${count}`);
  return performance.now() - t0;
}

try {
  process.stdout.write(`cpu: ${cpus()[0]?.model ?? "?"} (${cpus().length}); ${count} images, ${BOXES} boxes\n`);
  const data = await makeDataset();
  let t0 = performance.now();
  let studio = await startStudio({ data, token: "bench" });
  process.stdout.write(`first scan (decodes every image): ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  await studio.close();
  t0 = performance.now();
  studio = await startStudio({ data, token: "bench" });
  const start = performance.now() - t0;
  const lists = [await timeList(studio.port), await timeList(studio.port), await timeList(studio.port)];
  process.stdout.write(
    `after the scan: start ${start.toFixed(0)} ms, GET /api/images ${lists.map((t) => t.toFixed(0)).join(", ")} ms\n`,
  );
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
    env: browserEnv(),
  });
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 850 }, bypassCSP: true })).newPage();
  t0 = performance.now();
  await page.goto(studio.url);
  await page.waitForFunction("window.studio && window.studio.ready");
  const pageMs = performance.now() - t0;
  const listedMs = (await page.evaluate("window.studio.listedMs")) as number;
  const rows = (await page.locator("#images li").count()) as number;
  process.stdout.write(
    `page: list fetched and drawn in ${listedMs.toFixed(0)} ms (${rows} rows), page ready in ${pageMs.toFixed(0)} ms\n`,
  );

  await page.evaluate("window.studio.app.open('images/train/boxes300.jpg')");
  await page.waitForFunction("window.studio.app.detail.path === 'images/train/boxes300.jpg'");
  const boxes = await page.evaluate("window.studio.app.editor.doc.labels.length");
  await page.evaluate("window.studio.app.viewer.setView(1.2, 0, 0); window.studio.app.viewer.frameTimes.length = 0");
  const canvas = (await page.locator("#canvas").boundingBox())!;
  const intervals = (await page.evaluate(`(async () => {
    const times = [];
    let last = performance.now();
    let on = true;
    const tick = (t) => { times.push(t - last); last = t; if (on) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    window.__stop = () => { on = false; return times; };
    return 0;
  })()`)) as number;
  void intervals;
  const [cx, cy] = [canvas.x + 300, canvas.y + 300];
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let i = 0; i < 240; i++) await page.mouse.move(cx + 150 * Math.sin(i / 20), cy + 100 * Math.cos(i / 25));
  await page.mouse.up();
  const frame = (await page.evaluate("window.studio.app.viewer.frameTimes")) as number[];
  const raf = ((await page.evaluate("window.__stop()")) as number[]).slice(2);
  process.stdout.write(
    `panning ${boxes} boxes: ${frame.length} frames drawn, draw time median ${median(frame).toFixed(2)} ms, ` +
      `p95 ${quantile(frame, 0.95).toFixed(2)} ms, max ${Math.max(...frame).toFixed(2)} ms; ` +
      `frame interval median ${median(raf).toFixed(1)} ms, p95 ${quantile(raf, 0.95).toFixed(1)} ms\n`,
  );
  await browser.close();
  await studio.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
