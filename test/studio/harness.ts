/**
 * What the studio tests share: a small synthetic sparse dataset (the project's synth code), a studio started on it,
 * a page open in headless Chromium (playwright-core, as the report tests), and helpers that work in image pixels
 * (the test sets the view so that image pixels map exactly to page pixels).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { generateDataset } from "../../src/data/synth/index.js";
import { type Studio, type StudioOptions, startStudio } from "../../src/studio/index.js";

/** Side of the synthetic images. */
export const IMAGE_SIZE = 256;

/** Writes a sparse synthetic dataset (8 images, 256 px, 30 % labelled regions in train/val); returns its data.yaml. */
export async function makeSparseDataset(dir = mkdtempSync(join(tmpdir(), "sladet-studio-"))): Promise<string> {
  await generateDataset({
    out: dir,
    images: 8,
    seed: 5,
    imageSize: IMAGE_SIZE,
    sparseArea: 0.3,
    split: [0.5, 0.25, 0.25],
    onImage: () => {},
  });
  return join(dir, "data.yaml");
}

/** Starts a studio (a fixed token keeps URLs readable in failures). */
export function studioOn(options: StudioOptions): Promise<Studio> {
  return startStudio({ token: "t0k3n", ...options });
}

/** A page of the studio, with its console errors and the requests that left the studio's origin. */
export interface StudioPage {
  page: Page;
  errors: string[];
  foreignRequests: string[];
  /** Messages of the dialogs the page opened (each answered "cancel"). */
  dialogs: string[];
}

/**
 * Opens the studio's URL and waits until the first image is shown. The tests' own probes (`waitForFunction` with a
 * string) are evaluated as strings, which the studio's Content-Security-Policy forbids: `probes` (the default)
 * lets them through; a page opened without probes runs under the real policy.
 */
export async function openStudio(browser: Browser, studio: Studio, probes = true): Promise<StudioPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 850 }, bypassCSP: probes });
  const page = await context.newPage();
  const errors: string[] = [];
  const foreignRequests: string[] = [];
  const origin = new URL(studio.url).origin;
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:") && !r.url().startsWith("blob:"))
      foreignRequests.push(r.url());
  });
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(studio.url);
  if (probes)
    await page.waitForFunction("window.studio && window.studio.ready && window.studio.app && window.studio.app.detail");
  else await page.locator("#image-name", { hasText: "×" }).waitFor();
  return { page, errors, foreignRequests, dialogs };
}

/** Opens an image by clicking its row in the browse list and waits until it is shown. */
export async function openImage(page: Page, path: string): Promise<void> {
  await page.click(`#images li[data-path="${path}"]`);
  await page.waitForFunction(`window.studio.app.detail && window.studio.app.detail.path === ${JSON.stringify(path)}`);
}

/** View scale used by the mouse tests: 2 page pixels per image pixel, image origin at canvas (10, 10). */
export const VIEW = { scale: 2, ox: 10, oy: 10 };

/** Sets the view to {@link VIEW}. */
export async function setView(page: Page): Promise<void> {
  await page.evaluate(`window.studio.app.viewer.setView(${VIEW.scale}, ${VIEW.ox}, ${VIEW.oy})`);
}

/** The page point of image point (x, y) under {@link VIEW}. */
export async function pagePoint(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const box = (await page.locator("#canvas").boundingBox())!;
  return { x: box.x + VIEW.ox + x * VIEW.scale, y: box.y + VIEW.oy + y * VIEW.scale };
}

/** Drags the mouse from image point a to image point b. */
export async function drag(page: Page, a: [number, number], b: [number, number]): Promise<void> {
  const from = await pagePoint(page, a[0], a[1]);
  const to = await pagePoint(page, b[0], b[1]);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 3 });
  await page.mouse.move(to.x, to.y, { steps: 3 });
  await page.mouse.up();
}

/** Clicks image point (x, y). */
export async function clickAt(page: Page, x: number, y: number): Promise<void> {
  const p = await pagePoint(page, x, y);
  await page.mouse.click(p.x, p.y);
}

/** The status line's text. */
export function statusText(page: Page): Promise<string> {
  return page
    .locator("#status")
    .textContent()
    .then((t) => t ?? "");
}

/** Waits until the status line matches `pattern`; returns its text. */
export async function waitStatus(page: Page, pattern: RegExp): Promise<string> {
  try {
    await page.waitForFunction(`${pattern.toString()}.test(document.getElementById("status").textContent)`, undefined, {
      timeout: 10_000,
    });
  } catch (e) {
    throw new Error(`the status line never matched ${pattern}: it reads "${await statusText(page)}"`, { cause: e });
  }
  return statusText(page);
}

/** The open image's labels in the editor (as they would be saved). */
export function editorDoc(page: Page): Promise<{ region: unknown; labels: { cls: number; attributes: number[] }[] }> {
  return page.evaluate("window.studio.app.editor.doc") as Promise<{
    region: unknown;
    labels: { cls: number; attributes: number[] }[];
  }>;
}
