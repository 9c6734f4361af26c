/**
 * Weights are validated before a model is built from them (issue 22): bounded checkpoint metadata (multiples, nc,
 * anchors, attribute-head channels), the file's values counted against the model its metadata describes, dtypes and
 * finite values checked, zip entries' declared sizes bounded before inflating, and unreadable weights files (missing,
 * a folder, a FIFO, a device) named in a one-line error.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { CheckpointError, parseYoloCheckpoint, ZipError, ZipReader } from "../../src/io/index.js";
import { MAX_DEFLATE_RATIO, MAX_INFLATED_ENTRY_BYTES } from "../../src/io/zip.js";
import { AttributeHead } from "../../src/model/attribute-head.js";
import { builtinModelYaml, parseCheckpoint, serializeCheckpoint, YoloModel } from "../../src/model/index.js";
import { ConfigError } from "../../src/util/errors.js";
import { readWeightsFile } from "../../src/util/weights-file.js";
import { fixturePath } from "../helpers.js";
import { deflatedZip, storedZip } from "./zip-writer.js";

const tmp = mkdtempSync(join(tmpdir(), "sladet-ckpt-limits-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A yolov5n (nc 1) checkpoint with an attribute head, as bytes, and its header parsed. */
const model = new YoloModel(builtinModelYaml("n", 1));
const head = new AttributeHead({ inChannels: 48, roiSize: [24, 30] });
const good = serializeCheckpoint(model, { attributeHead: head });
after(() => {
  model.dispose();
  head.dispose();
});

interface Header {
  json: Record<string, { dtype?: string; data_offsets?: [number, number] } & Record<string, unknown>>;
  length: number;
}

function header(bytes: Uint8Array): Header {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))), length };
}

/** The checkpoint with its header rewritten by `edit` (tensor bytes unchanged). */
function withHeader(edit: (h: Header["json"]) => void, bytes = good): Uint8Array {
  const { json, length } = header(bytes);
  edit(json);
  const text = new TextEncoder().encode(JSON.stringify(json));
  const out = new Uint8Array(8 + text.byteLength + bytes.byteLength - 8 - length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.byteLength), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + length), 8 + text.byteLength);
  return out;
}

/** The checkpoint with its sladet metadata document rewritten by `edit`. */
function withMeta(edit: (meta: Record<string, unknown>) => void): Uint8Array {
  return withHeader((h) => {
    const doc = h["__metadata__"] as unknown as Record<string, string>;
    const meta = JSON.parse(doc["sladet"]!) as Record<string, unknown>;
    edit(meta);
    doc["sladet"] = JSON.stringify(meta);
  });
}

/** CPU milliseconds of this process (every thread): unlike wall time, not inflated by a loaded machine. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Refused with a one-line message naming the file and matching `pattern`. */
function refused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => parseCheckpoint(bytes, "crafted.safetensors"),
    (err: Error) => {
      assert.equal(err.name, "SladetCheckpointError", err.stack);
      assert.match(err.message, /^crafted\.safetensors: /);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes("\n"), "one line");
      return true;
    },
  );
}

/** {@link refused} within `ms` of CPU time: before any model is built. */
function refusedQuickly(bytes: Uint8Array, pattern: RegExp, ms = 5000): void {
  const t0 = cpuMs();
  refused(bytes, pattern);
  const spent = cpuMs() - t0;
  assert.ok(spent < ms, `refused after ${spent.toFixed(0)} ms of CPU: the model must not be built first`);
}

describe("checkpoint metadata is bounded before a model is built", () => {
  const model = (edit: (m: Record<string, unknown>) => void) =>
    withMeta((meta) => edit(meta["model"] as Record<string, unknown>));

  test("the good checkpoint loads (the checks accept what sladet writes)", () => {
    const loaded = parseCheckpoint(good, "good.safetensors");
    assert.equal(loaded.attributeHead?.inChannels, 48);
    loaded.model.dispose();
    loaded.attributeHead?.dispose();
  });

  test("depth_multiple 1000, width_multiple 64, nc 1e7, 1e9 anchors: refused by their limits", () => {
    refusedQuickly(
      model((m) => (m["depth_multiple"] = 1000)),
      /"depth_multiple" must be a number in \(0, 4\], found 1000/,
    );
    refusedQuickly(
      model((m) => (m["width_multiple"] = 64)),
      /"width_multiple" must be a number in \(0, 4\], found 64/,
    );
    refusedQuickly(
      model((m) => (m["nc"] = 1e7)),
      /"nc" must be an integer from 1 to 10000, found 10000000/,
    );
    refusedQuickly(
      model((m) => (m["anchors"] = 1e9)),
      /"anchors" as a count must be from 1 to 16/,
    );
    refusedQuickly(
      model((m) => (m["anchors"] = [[10, 13, 1e12, 30]])),
      /"anchors" must be 1 to 8 equal-length lists/,
    );
  });

  test("a description within the limits but larger than the file's tensors is refused before it is built", () => {
    refusedQuickly(
      model((m) => (m["width_multiple"] = 4)),
      /the metadata describes a detector of \d+ values, but the file holds 1\d{6}/,
    );
    refusedQuickly(
      model((m) => (m["head"] as unknown[][])[0]!.splice(1, 1, 1e6)),
      /values|number/,
    );
  });

  test("an attribute head of 1e6 input channels or a huge RoI grid is refused", () => {
    const headMeta = (edit: (h: Record<string, unknown>) => void) =>
      withMeta((meta) => edit(meta["attributeHead"] as Record<string, unknown>));
    refusedQuickly(
      headMeta((h) => (h["inChannels"] = 1e6)),
      /inChannels must be an integer from 1 to 16384/,
    );
    refusedQuickly(
      headMeta((h) => (h["roiSize"] = [1e5, 1e5])),
      /roiSize must be two integers from 1 to 256/,
    );
    refusedQuickly(
      headMeta((h) => {
        h["inChannels"] = 4096;
        h["tapChannels"] = [4096];
      }),
      /attribute head of \d+ values \(4096 channels, RoI 24×30\), but the file holds \d+/,
    );
  });

  test("F32 data declared I32 is refused as a dtype mismatch naming the tensor", () => {
    const relabelled = withHeader((h) => {
      h["detector.model.0.conv.weight"]!.dtype = "I32";
    });
    refused(relabelled, /dtype mismatch for model\.0\.conv\.weight: expected float32, found int32/);
  });

  test("NaN or Inf weights are refused, naming the tensor", () => {
    for (const [value, name] of [
      [Number.NaN, "detector.model.2.cv1.bn.weight"],
      [Number.POSITIVE_INFINITY, "attributes.fc1.bias"],
    ] as const) {
      const bytes = Uint8Array.from(good);
      const { json, length } = header(bytes);
      const [begin] = json[name]!.data_offsets!;
      new DataView(bytes.buffer).setFloat32(8 + length + begin + 4, value, true);
      refused(bytes, new RegExp(`tensor "${name.replace(/\./g, "\\.")}" holds NaN or infinite values`));
    }
  });
});

describe("YOLOv5 .pt files", () => {
  const tiny = readFileSync(fixturePath("models/tiny14.pt"));
  const zip = new ZipReader(tiny, "tiny14.pt");
  const entries = zip.names().map((n) => [n, Uint8Array.from(zip.read(n))] as [string, Uint8Array]);

  test("a non-finite weight in a .pt is refused with the file's name", () => {
    const damaged = entries.map(([n, d]) => {
      if (!/\/data\/\d+$/.test(n)) return [n, d] as [string, Uint8Array];
      const copy = Uint8Array.from(d);
      if (copy.byteLength >= 4) new DataView(copy.buffer).setFloat32(0, Number.NaN, true);
      return [n, copy] as [string, Uint8Array];
    });
    assert.throws(
      () => parseYoloCheckpoint(storedZip(damaged), "nan.pt"),
      (err: Error) => err instanceof CheckpointError && /^nan\.pt: .*NaN or infinite/.test(err.message),
    );
  });

  test("a 1 MB deflated entry declaring 1 GiB, or 4 GiB, is refused before inflating", () => {
    const data = new Uint8Array(1024 * 1024).map((_, i) => (i * 2654435761) >>> 24); // barely compressible
    for (const declared of [1024 * 1024 * 1024, 0xfffffff0]) {
      const bomb = deflatedZip("archive/data.pkl", data, declared);
      const t0 = cpuMs();
      assert.throws(
        () => new ZipReader(bomb, "bomb.pt").read("archive/data.pkl"),
        (err: Error) =>
          err instanceof ZipError &&
          /^bomb\.pt: not a valid zip archive: entry "archive\/data\.pkl" declares \d+ bytes/.test(err.message),
      );
      assert.ok(cpuMs() - t0 < 2000, "refused without inflating");
    }
    assert.ok(MAX_DEFLATE_RATIO * data.byteLength < 1024 * 1024 * 1024 && MAX_INFLATED_ENTRY_BYTES < 0xfffffff0);
    const honest = deflatedZip("archive/data.pkl", data);
    const read = new ZipReader(honest, "honest.pt").read("archive/data.pkl");
    assert.ok(Buffer.from(read).equals(Buffer.from(data)), "a real deflated entry reads");
  });
});

describe("weights files that cannot be read", () => {
  test("missing, a folder, a FIFO and /dev/zero give one-line errors naming the file", () => {
    const folder = join(tmp, "folder.pt");
    mkdirSync(folder);
    const fifo = join(tmp, "fifo.pt");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
    const cases: Array<[string, RegExp]> = [
      [join(tmp, "missing.pt"), /missing\.pt: cannot read the weights \(ENOENT\)/],
      [folder, /folder\.pt: cannot read the weights \(a folder, not a file\)/],
      [fifo, /fifo\.pt: cannot read the weights \(not a regular file/],
      ["/dev/zero", /\/dev\/zero: cannot read the weights \(not a regular file/],
    ];
    for (const [path, pattern] of cases) {
      assert.throws(
        () => readWeightsFile(path),
        (err: Error) => err instanceof ConfigError && pattern.test(err.message) && !err.message.includes("\n"),
      );
    }
    writeFileSync(join(tmp, "ok.bin"), "x");
    assert.equal(readWeightsFile(join(tmp, "ok.bin")).toString(), "x");
  });
});
