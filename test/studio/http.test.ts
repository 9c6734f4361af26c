/**
 * The studio's HTTP API without a browser: the token on every API call, the Host check, the path rule (`..`,
 * absolute paths, links out of the dataset root), request limits and schema, saves (round trip, backup, conflict,
 * invalid labels), the read-only run mode, the warning for a non-loopback host, and `sladet studio` itself.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import type { ImageDetail, ImageSummary, SaveResult } from "../../src/studio/api-types.js";
import type { Studio } from "../../src/studio/index.js";
import { THUMBNAIL_SIZE } from "../../src/studio/thumbnails.js";
import { makeSparseDataset, studioOn } from "./harness.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const dataYaml = await makeSparseDataset();
const root = dirname(dataYaml);
const outside = mkdtempSync(join(tmpdir(), "sladet-outside-"));
const label = (image: string) => join(root, image.replace(/^images\//, "labels/").replace(/\.jpg$/, ".txt"));
// a link out of the root among the images, and a label file that links out of the root
copyFileSync(join(root, "images", "train", "synth_000000.jpg"), join(outside, "secret.jpg"));
symlinkSync(join(outside, "secret.jpg"), join(root, "images", "train", "evil.jpg"));
writeFileSync(join(outside, "victim.txt"), "keep me\n");
rmSync(label("images/train/synth_000003.jpg"));
symlinkSync(join(outside, "victim.txt"), label("images/train/synth_000003.jpg"));

let studio: Studio;
before(async () => {
  studio = await studioOn({ data: dataYaml });
});
after(async () => {
  await studio?.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
  json: () => unknown;
}

/** One raw HTTP request (node:http: the Host header and the path are sent as given). */
function call(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: studio.port, path, method: options.method ?? "GET", headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
const token = { "x-sladet-token": "t0k3n" };
const api = (path: string, options: { method?: string; body?: unknown } = {}) =>
  call(path, {
    method: options.method ?? "GET",
    headers: { ...token, ...(options.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
const q = (path: string) => `path=${encodeURIComponent(path)}`;

describe("the token", () => {
  test("every API call needs it (header or query); a wrong one is refused; the page itself holds no data", async () => {
    assert.equal((await call("/api/info")).status, 401);
    assert.equal((await call("/api/images", { headers: { "x-sladet-token": "t0k3m" } })).status, 401);
    assert.equal((await call("/api/images?token=nope")).status, 401);
    assert.equal((await call("/api/labels?path=x", { method: "PUT", body: "{}" })).status, 401);
    for (const spelled of ["/%61pi/info", "/api/%69nfo", "/api//info", "/./api/info", "/api/info/"])
      assert.ok([401, 404].includes((await call(spelled)).status), `${spelled} without the token`);
    assert.equal((await call("/api/images", { headers: token })).status, 200);
    assert.equal((await call(`/api/thumb?${q("images/train/synth_000000.jpg")}&token=t0k3n`)).status, 200);
    const page = await call("/");
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="app.js">/);
  });

  test("the URL carries a random token; a request naming another host is refused (DNS rebinding)", async () => {
    const other = await studioOn({ data: dataYaml, token: undefined });
    try {
      assert.match(other.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
      assert.notEqual(other.token, "t0k3n");
    } finally {
      await other.close();
    }
    assert.equal((await call("/api/info", { headers: { ...token, host: "evil.example:80" } })).status, 403);
    assert.equal((await call("/", { headers: { host: `localhost:${studio.port}` } })).status, 200);
  });

  test("answers forbid framing, sniffing, other origins' scripts and the Referer", async () => {
    const res = await fetch(`http://127.0.0.1:${studio.port}/`);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'; script-src 'self'/);
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  });
});

test("thumbnails are made on first request and cached beside the check cache", async () => {
  const cache = join(root, ".sladet-cache", "studio-thumbnails");
  rmSync(cache, { recursive: true, force: true });
  const url = `http://127.0.0.1:${studio.port}/api/thumb?${q("images/val/synth_000004.jpg")}&token=t0k3n`;
  const first = await fetch(url);
  assert.equal(first.headers.get("content-type"), "image/jpeg");
  const bytes = Buffer.from(await first.arrayBuffer());
  const meta = await sharp(bytes).metadata();
  assert.equal(Math.max(meta.width!, meta.height!), THUMBNAIL_SIZE);
  assert.equal(readdirSync(cache).length, 1);
  assert.deepEqual(Buffer.from(await (await fetch(url)).arrayBuffer()), bytes);
});

describe("paths", () => {
  test("`..`, absolute paths and links out of the root are refused (403); other files of the root are not images (404)", async () => {
    for (const bad of ["../../../etc/passwd", "images/../../x.jpg", "/etc/passwd", "..\\..\\x", "C:/x.jpg"]) {
      for (const route of ["/api/image", "/api/pixels", "/api/thumb"])
        assert.equal((await api(`${route}?${q(bad)}`)).status, 403, `${route} ${bad}`);
    }
    assert.equal((await api("/api/pixels?path=%2e%2e%2f%2e%2e%2fetc%2fpasswd")).status, 403);
    assert.equal((await api(`/api/pixels?${q("images/train/evil.jpg")}`)).status, 403, "a link out of the root");
    assert.equal((await api(`/api/image?${q("data.yaml")}`)).status, 404);
    assert.equal((await api("/api/image")).status, 400);
    const listed = (await api("/api/images")).json() as ImageSummary[];
    assert.ok(!listed.some((i) => i.path.includes("evil")), "the link out is not listed");
  });

  test("a label file that links out of the root is never written", async () => {
    const path = "images/train/synth_000003.jpg";
    const detail = (await api(`/api/image?${q(path)}`)).json() as ImageDetail;
    const res = await api(`/api/labels?${q(path)}`, {
      method: "PUT",
      body: { version: detail.version, region: null, labels: [] },
    });
    assert.equal(res.status, 403);
    assert.equal(readFileSync(join(outside, "victim.txt"), "utf8"), "keep me\n");
  });
});

describe("saving", () => {
  const path = "images/train/synth_000001.jpg";
  const open = async () => (await api(`/api/image?${q(path)}`)).json() as ImageDetail;
  const save = (body: unknown) => api(`/api/labels?${q(path)}`, { method: "PUT", body });

  test("every image's labels sent back unchanged leave its files byte-identical", async () => {
    for (const image of (await api("/api/images")).json() as ImageSummary[]) {
      if (image.path.endsWith("synth_000003.jpg")) continue; // the link out
      const before = readFileSync(label(image.path));
      const d = (await api(`/api/image?${q(image.path)}`)).json() as ImageDetail;
      const res = await api(`/api/labels?${q(image.path)}`, {
        method: "PUT",
        body: { version: d.version, region: d.region, labels: d.labels },
      });
      assert.equal(res.status, 200, res.body);
      assert.equal((res.json() as SaveResult).status, "unchanged", image.path);
      assert.deepEqual(readFileSync(label(image.path)), before, image.path);
    }
  });

  test("a change is written with a backup of the previous file; a stale version is refused (409)", async () => {
    const before = readFileSync(label(path), "utf8");
    const d = await open();
    const first = d.labels[0]!;
    const res = await save({ version: d.version, region: d.region, labels: [{ ...first, cls: 2 }] });
    assert.equal(res.status, 200, res.body);
    const result = res.json() as SaveResult;
    assert.equal(result.status, "saved");
    assert.notEqual(result.version, d.version);
    assert.equal(readFileSync(join(root, result.backup!), "utf8"), before);
    assert.match(readFileSync(label(path), "utf8"), /^2 /);
    assert.deepEqual(
      readdirSync(dirname(label(path))).filter((n) => n.endsWith(".tmp")),
      [],
      "no temporary file left",
    );
    const stale = await save({ version: d.version, region: d.region, labels: [] });
    assert.equal(stale.status, 409);
    assert.match((stale.json() as { error: string }).error, /changed on disk since you opened it/);
    assert.match(readFileSync(label(path), "utf8"), /^2 /, "not overwritten");
  });

  test("labels that would fail sladet check are refused (422); malformed or oversized bodies too", async () => {
    const d = await open();
    const first = d.labels[0]!;
    const refused = async (labels: unknown[], pattern: RegExp) => {
      const res = await save({ version: d.version, region: d.region, labels });
      assert.equal(res.status, 422, res.body);
      assert.match((res.json() as { error: string }).error, pattern);
    };
    await refused([{ ...first, cls: 99 }], /class 99 is not one of the dataset's classes 0\.\.13/);
    await refused([{ ...first, xc: 0.99, w: 0.2 }], /inside the image/);
    await refused([{ ...first, attributes: [5, 0, 0, 0, 0, 0, 0] }], /Cell Size value 5/);
    const r = d.region!;
    await refused([{ ...first, xc: r.x2 / 256 + 0.05, w: 0.02 }], /centre lies outside the labelled region/);
    assert.equal((await save({ version: d.version, region: d.region, labels: [{ ...first, extra: 1 }] })).status, 400);
    assert.equal((await save({ version: d.version, labels: [] })).status, 400);
    const big = JSON.stringify({ version: "x".repeat(2 * 1024 * 1024), region: null, labels: [] });
    const res = await call(`/api/labels?${q(path)}`, {
      method: "PUT",
      headers: { ...token, "content-type": "application/json" },
      body: big,
    });
    assert.equal(res.status, 413);
  });

  test("plain YOLO lines (no region, no attributes) round-trip, and an edit writes them as 16 columns", async () => {
    const yolo = "images/val/synth_000005.jpg";
    writeFileSync(label(yolo), "3 0.5 0.5 0.2 0.2\n");
    rmSync(label(yolo).replace(/\.txt$/, ".region"), { force: true });
    const d = (await api(`/api/image?${q(yolo)}`)).json() as ImageDetail;
    assert.equal(d.region, null);
    const unknown = Array(7).fill(-1);
    const put = (cls: number) =>
      api(`/api/labels?${q(yolo)}`, {
        method: "PUT",
        body: { version: d.version, region: null, labels: [{ ...d.labels[0]!, cls, attributes: unknown }] },
      });
    assert.equal(((await put(3)).json() as SaveResult).status, "unchanged");
    assert.equal(readFileSync(label(yolo), "utf8"), "3 0.5 0.5 0.2 0.2\n");
    assert.equal(((await put(4)).json() as SaveResult).status, "saved");
    assert.equal(readFileSync(label(yolo), "utf8"), "4 0.5 0.5 0.2 0.2 0 0 256 256 3 2 2 2 2 2 2\n");
  });

  test("without weights, predictions are refused with what to do", async () => {
    const res = await api(`/api/predict?${q(path)}`, { method: "POST" });
    assert.equal(res.status, 400);
    assert.match(res.body, /--weights/);
  });
});

test("a dataset declaring region_order x1x2y1y2 and region_units norm is read and written in them", async () => {
  const other = mkdtempSync(join(tmpdir(), "sladet-norm-"));
  try {
    mkdirSync(join(other, "images"), { recursive: true });
    mkdirSync(join(other, "labels"), { recursive: true });
    copyFileSync(join(root, "images", "train", "synth_000000.jpg"), join(other, "images", "a.jpg"));
    writeFileSync(
      join(other, "data.yaml"),
      "train: images\nval: images\nnames: [a, b]\nregion_order: x1x2y1y2\nregion_units: norm\nattributes: []\n",
    );
    writeFileSync(join(other, "labels", "a.txt"), "0 0.5 0.5 0.1 0.1 0.25 0.75 0.125 0.875\n");
    const s = await studioOn({ data: join(other, "data.yaml") });
    try {
      const headers = { ...token, "content-type": "application/json" };
      const base = `http://127.0.0.1:${s.port}`;
      const d = (await (await fetch(`${base}/api/image?${q("images/a.jpg")}`, { headers })).json()) as ImageDetail;
      assert.deepEqual(d.region, { x1: 64, x2: 192, y1: 32, y2: 224 });
      const res = await fetch(`${base}/api/labels?${q("images/a.jpg")}`, {
        method: "PUT",
        headers,
        body: JSON.stringify({ version: d.version, region: d.region, labels: [{ ...d.labels[0]!, cls: 1 }] }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(readFileSync(join(other, "labels", "a.txt"), "utf8"), "1 0.5 0.5 0.1 0.1 0.25 0.75 0.125 0.875\n");
      assert.equal(readFileSync(join(other, "labels", "a.region"), "utf8"), "0.25 0.125 0.75 0.875\n");
    } finally {
      await s.close();
    }
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

describe("hosts and the command line", () => {
  test("a host other than the loopback is warned about", async () => {
    const warnings: string[] = [];
    const open = await studioOn({ data: dataYaml, host: "0.0.0.0", warn: (m) => warnings.push(m) });
    await open.close();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /listens on 0\.0\.0\.0, not only on this machine/);
  });

  test("`sladet studio --data` prints the URL with its token, serves without the native addon, stops on SIGINT", async () => {
    const child = spawn(join(REPO, "bin", "sladet"), ["studio", "--data", dataYaml], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SLADET_ADDON: "/nonexistent/sladet.node" }, // no --weights: libtorch is never loaded
    });
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48})/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const u = new URL(url);
    const info = await fetch(`${u.origin}/api/info`, { headers: { "x-sladet-token": u.searchParams.get("token")! } });
    assert.equal(info.status, 200);
    assert.equal(((await info.json()) as { mode: string }).mode, "data");
    const code = await new Promise<number | null>((resolve) => {
      child.removeAllListeners("exit");
      child.on("exit", resolve);
      child.kill("SIGINT");
    });
    assert.equal(code, 0);
  });
});

describe("a detect run", () => {
  test("is read-only (405) and keeps the path rule", async () => {
    const runDir = join(root, "runs", "detect", "exp");
    mkdirSync(runDir, { recursive: true });
    const file = join(root, "images", "test", "synth_000006.jpg");
    writeFileSync(
      join(runDir, "predictions.json"),
      JSON.stringify({
        version: 1,
        model: { weights: "w", backend: "onnx", names: ["cell"], imgsz: 256, attributes: null },
        settings: { confThres: 0.25, iouThres: 0.45, maxDet: 300, classes: null, agnostic: false },
        images: [{ file, width: 256, height: 256, detections: [] }],
        skipped: [],
      }),
    );
    const run = await studioOn({ run: runDir });
    try {
      const get = (p: string, method = "GET") =>
        fetch(`http://127.0.0.1:${run.port}${p}`, {
          method,
          headers: { ...token, "content-type": "application/json" },
          ...(method === "PUT" ? { body: "{}" } : {}),
        });
      const list = (await (await get("/api/images")).json()) as ImageSummary[];
      assert.deepEqual(
        list.map((i) => i.path),
        ["0/synth_000006.jpg"],
      );
      assert.equal((await get(`/api/pixels?${q("0/synth_000006.jpg")}`)).status, 200);
      assert.equal((await get(`/api/pixels?${q("../x/synth_000006.jpg")}`)).status, 403);
      assert.equal((await get(`/api/pixels?${q("1/synth_000006.jpg")}`)).status, 404);
      const put = await fetch(`http://127.0.0.1:${run.port}/api/labels?${q("0/synth_000006.jpg")}`, {
        method: "PUT",
        headers: { ...token, "content-type": "application/json" },
        body: JSON.stringify({ version: "", region: null, labels: [] }),
      });
      assert.equal(put.status, 405);
    } finally {
      await run.close();
    }
  });
});
