/**
 * PyTorch checkpoints without Python: a YOLOv5-layout .pt written by PyTorch (tools/oracle/models.py) imports and
 * predicts as PyTorch does; 80 → 14 class transfer; hostile pickles refused by name; damaged files give clear errors
 * and ≥ 100 corrupted checkpoints never crash; our checkpoint format round-trips; `sladet export` converts a .pt.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  CheckpointError,
  describeTransfer,
  disposeCheckpoint,
  exportPtCheckpoint,
  modelFromCheckpoint,
  PickleError,
  parseTorchArchive,
  parseYoloCheckpoint,
  readYoloCheckpoint,
  transferWeights,
  ZipError,
  ZipReader,
} from "../../src/io/index.js";
import { ModelConfigError } from "../../src/model/config.js";
import {
  builtinModelYaml,
  checkpointMeta,
  loadCheckpoint,
  parseCheckpoint,
  saveCheckpoint,
  YoloModel,
} from "../../src/model/index.js";
import { loadSafetensors, noGrad, serializeSafetensors, type Tensor, tidy } from "../../src/torch/index.js";
import { Rng } from "../../src/util/random.js";
import { assertClose, fixturePath, REPO_ROOT } from "../helpers.js";
import { pickleBytes, storedZip } from "./zip-writer.js";

const golden = loadSafetensors(fixturePath("models/models.safetensors"));
const tmp = mkdtempSync(join(tmpdir(), "sladet-import-"));
after(() => {
  for (const t of golden.tensors.values()) t.dispose();
  rmSync(tmp, { recursive: true, force: true });
});
const ref = (key: string): Tensor => {
  const t = golden.tensors.get(key);
  assert.ok(t, `fixture ${key} missing: regenerate with /usr/bin/python3 tools/oracle/models.py`);
  return t;
};
const TINY14 = fixturePath("models/tiny14.pt");
const TINY80 = fixturePath("models/tiny80.pt");

function predict(model: YoloModel, x: Tensor): Tensor {
  model.eval();
  return noGrad(() => model.forward(x).decoded!);
}

describe("a YOLOv5 checkpoint written by PyTorch", () => {
  test("reads architecture, names, strides, evolved anchors and EMA weights from the file, predicts as PyTorch", () => {
    const ckpt = readYoloCheckpoint(TINY14);
    assert.equal(ckpt.weightsFrom, "ema");
    assert.equal(ckpt.yaml.width_multiple, 0.0625);
    assert.equal(ckpt.names[1], "Neutrophil");
    assert.deepEqual(ckpt.stride, [8, 16, 32]);
    assert.equal(ckpt.epoch, 3);
    assert.equal(ckpt.bestFitness, 0.4321);
    assert.equal(ckpt.date, "2024-05-01T12:00:00");
    assert.ok(ckpt.opt);
    assert.equal((ckpt.opt["hyp"] as Record<string, number>)["anchor_t"], 4);
    const model = modelFromCheckpoint(ckpt);
    disposeCheckpoint(ckpt);
    try {
      assert.deepEqual(model.names.length, 14);
      assertClose(model.detect.anchors.data, ref("tiny14/anchors"), "anchors (grid units, evolved)");
      tidy(() => {
        const decoded = predict(model, ref("tiny14/input"));
        assertClose(decoded, ref("tiny14/decoded"), "decoded");
        const maps = noGrad(() => model.forward(ref("tiny14/input")).maps);
        for (const [i, m] of maps.entries()) assertClose(m, ref(`tiny14/map${i}`), `map${i}`);
      });
    } finally {
      model.dispose();
    }
  });

  test("stripped checkpoints (ema None) use `model`", () => {
    const ckpt = readYoloCheckpoint(TINY80);
    try {
      assert.equal(ckpt.weightsFrom, "model");
      assert.equal(ckpt.yaml.nc, 80);
      assert.equal(ckpt.epoch, -1);
      assert.equal(ckpt.names[79], "class79");
    } finally {
      disposeCheckpoint(ckpt);
    }
  });

  test("an 80-class checkpoint into an nc = 14 model transfers all but the Detect output convolutions", () => {
    const ckpt = readYoloCheckpoint(TINY80);
    const model = new YoloModel({ ...ckpt.yaml, nc: 14 });
    try {
      const report = transferWeights(model, ckpt.state);
      assert.deepEqual(report.shapeMismatch.map((m) => m.key).sort(), [
        "model.24.m.0.bias",
        "model.24.m.0.weight",
        "model.24.m.1.bias",
        "model.24.m.1.weight",
        "model.24.m.2.bias",
        "model.24.m.2.weight",
      ]);
      assert.deepEqual(report.missing, []);
      assert.deepEqual(report.unexpected, []);
      assert.equal(report.loaded.length, ckpt.state.size - 6);
      assert.ok(report.loaded.includes("model.24.anchors"));
      const text = describeTransfer("tiny80.pt → nc 14", report);
      assert.match(text, /transferred 343\/349 tensors/);
      assert.match(text, /shape mismatch for model\.24\.m\.0\.weight: expected \[57,16,1,1\], found \[255,16,1,1\]/);
      // a transferred tensor has the file's values
      assertClose(model.stateDict().get("model.0.conv.weight")!, ckpt.state.get("model.0.conv.weight")!, "conv0");
    } finally {
      model.dispose();
      disposeCheckpoint(ckpt);
    }
  });

  test("the pickled module layout matches the model sladet builds from the same YAML (keys and shapes)", () => {
    const ckpt = readYoloCheckpoint(TINY14);
    const model = new YoloModel(ckpt.yaml);
    try {
      const ours = [...model.stateDict()].map(([k, t]) => `${k} [${t.shape}]`);
      const theirs = [...ckpt.state].map(([k, t]) => `${k} [${t.shape}]`);
      assert.deepEqual(ours, theirs);
    } finally {
      model.dispose();
      disposeCheckpoint(ckpt);
    }
  });
});

describe("hostile and damaged files", () => {
  const archive = (pkl: Uint8Array) => storedZip([["archive/data.pkl", pkl]]);
  const PROTO = [0x80, 0x02];
  const global = (module: string, name: string) => pickleBytes("c", `${module}\n${name}\n`);
  const callWithString = (module: string, name: string, arg: string) =>
    pickleBytes(PROTO, global(module, name) as unknown as number[], "X", [arg.length, 0, 0, 0], arg, [0x85], "R.");

  for (const [module, name] of [
    ["os", "system"],
    ["posix", "system"],
    ["builtins", "eval"],
    ["__builtin__", "exec"],
    ["subprocess", "Popen"],
    ["torch", "load"],
  ]) {
    test(`a global ${module}.${name} is refused by name, nothing runs`, () => {
      const marker = join(tmp, "pwned");
      const bytes = archive(callWithString(module!, name!, `touch ${marker}`));
      assert.throws(
        () => parseTorchArchive(bytes, "evil.pt"),
        (err: Error) =>
          err instanceof PickleError && err.message.includes(`"${module}.${name}"`) && err.message.includes("evil.pt"),
      );
      assert.ok(!existsSync(marker));
    });
  }

  for (const [name, op] of <Array<[string, string]>>[
    ["INST", "i"],
    ["OBJ", "o"],
    ["STACK_GLOBAL", "\x93"],
    ["EXT1", "\x82"],
  ]) {
    test(`the opcode ${name} is refused by name`, () => {
      const bytes = archive(pickleBytes(PROTO, op, "."));
      assert.throws(() => parseTorchArchive(bytes, "evil.pt"), new RegExp(`refused the pickle opcode ${name}`));
    });
  }

  test("an allowed class cannot be smuggled through REDUCE into a call", () => {
    // torch.FloatStorage is allowed only as a value in persistent ids
    const bytes = archive(pickleBytes(PROTO, global("torch", "FloatStorage") as unknown as number[], ")R."));
    assert.throws(() => parseTorchArchive(bytes, "evil.pt"), /torch\.FloatStorage cannot be called/);
  });

  test("legacy, truncated and foreign files give clear errors", () => {
    const good = readFileSync(TINY80);
    assert.throws(() => parseYoloCheckpoint(pickleBytes([0x80, 0x02, 0x8a, 0x0a]), "old.pt"), /PyTorch < 1\.6/);
    assert.throws(
      () => parseYoloCheckpoint(good.subarray(0, good.byteLength - 100), "cut.pt"),
      /cut\.pt: not a valid zip archive/,
    );
    assert.throws(() => parseYoloCheckpoint(good.subarray(0, 5000), "cut.pt"), /cut\.pt: not a valid zip archive/);
    const seedHead = readFileSync(fixturePath("models/seed_attr.pth"));
    assert.throws(() => parseYoloCheckpoint(seedHead, "head.pth"), /head\.pth: this is a bare state dict/);
    const flipped = Uint8Array.from(good);
    flipped[200_000] = flipped[200_000]! ^ 0xff;
    assert.throws(() => parseYoloCheckpoint(flipped, "flip.pt"), /flip\.pt: .*fails its CRC-32 check/);
  });

  test("≥ 100 corrupted checkpoints: each loads or fails with a clear error, never crashes", () => {
    const good = readFileSync(TINY80);
    const zip = new ZipReader(good, "tiny80.pt");
    const entries = zip.names().map((n) => [n, Uint8Array.from(zip.read(n))] as [string, Uint8Array]);
    const pklIndex = entries.findIndex(([n]) => n.endsWith("data.pkl"));
    const rng = new Rng(20240501);
    const known = [CheckpointError, PickleError, ZipError, ModelConfigError];
    let failures = 0;
    const N = 120;
    for (let k = 0; k < N; k++) {
      let bytes: Uint8Array;
      if (k % 3 === 0) {
        // raw damage: truncation or flipped bytes anywhere
        bytes = Uint8Array.from(good);
        if (rng.next() < 0.5) bytes = bytes.subarray(0, Math.floor(rng.next() * bytes.byteLength));
        else
          for (let j = 0; j < 8; j++) bytes[Math.floor(rng.next() * bytes.byteLength)] = Math.floor(rng.next() * 256);
      } else {
        // damage inside the pickle with a valid zip around it (reaches the pickle reader and the tensor checks)
        const pkl = Uint8Array.from(entries[pklIndex]![1]);
        const mode = k % 3;
        if (mode === 1) {
          for (let j = 0; j < 1 + Math.floor(rng.next() * 6); j++) {
            pkl[Math.floor(rng.next() * pkl.byteLength)] = Math.floor(rng.next() * 256);
          }
        }
        const cut = mode === 2 ? pkl.subarray(0, Math.floor(rng.next() * pkl.byteLength)) : pkl;
        const copy = entries.map(([n, d], i) => [n, i === pklIndex ? cut : d] as [string, Uint8Array]);
        bytes = storedZip(copy);
      }
      try {
        const ckpt = parseYoloCheckpoint(bytes, `fuzz${k}.pt`);
        try {
          modelFromCheckpoint(ckpt).dispose();
        } catch (err) {
          assert.ok(err instanceof CheckpointError, `fuzz${k}: ${(err as Error).stack}`);
          failures++;
        } finally {
          disposeCheckpoint(ckpt);
        }
      } catch (err) {
        assert.ok(
          known.some((E) => err instanceof E),
          `fuzz${k}: unexpected ${(err as Error).name}: ${(err as Error).stack}`,
        );
        assert.match((err as Error).message, new RegExp(`fuzz${k}\\.pt`), "the message names the file");
        failures++;
      }
    }
    assert.ok(failures >= N / 2, `most mutants must be rejected (${failures}/${N})`);
  });
});

describe("sladet checkpoints", () => {
  test("save → load round-trips weights and metadata; the write is atomic", () => {
    const ckpt = readYoloCheckpoint(TINY14);
    const model = modelFromCheckpoint(ckpt);
    disposeCheckpoint(ckpt);
    const path = join(tmp, "ckpt", "last.safetensors");
    try {
      saveCheckpoint(path, model, { epoch: 7, metrics: { mAP50: 0.5 }, hyp: { lr0: 0.01 } });
      assert.deepEqual(readdirSync(join(tmp, "ckpt")), ["last.safetensors"], "no temporary file left");
      const loaded = loadCheckpoint(path);
      try {
        assert.equal(loaded.meta.epoch, 7);
        assert.equal(loaded.meta.metrics?.["mAP50"], 0.5);
        assert.deepEqual(loaded.meta.names, [...model.names]);
        assert.deepEqual(loaded.meta.stride, [8, 16, 32]);
        assert.equal(loaded.meta.anchors.length, 3);
        assert.equal(loaded.attributeHead, null);
        tidy(() => assertClose(predict(loaded.model, ref("tiny14/input")), ref("tiny14/decoded"), "reloaded"));
      } finally {
        loaded.model.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  test("a damaged sladet checkpoint is refused with the file's name", () => {
    const model = new YoloModel(builtinModelYaml("n", 2));
    const path = join(tmp, "bad.safetensors");
    try {
      saveCheckpoint(path, model);
      assert.throws(() => loadCheckpoint(join(tmp, "missing.safetensors")), /ENOENT/);
      const tensors = [...model.stateDict()].map(([k, t]) => [`detector.${k}`, t] as [string, Tensor]);
      const meta = checkpointMeta(model);
      const withMeta = (m: Record<string, string>) => serializeSafetensors(tensors, m);
      assert.throws(() => parseCheckpoint(withMeta({}), "bad.safetensors"), /bad\.safetensors: no "sladet" metadata/);
      const other = withMeta({ sladet: JSON.stringify({ ...meta, format: "other" }) });
      assert.throws(() => parseCheckpoint(other, "bad.safetensors"), /bad\.safetensors: format is not/);
      const newer = withMeta({ sladet: JSON.stringify({ ...meta, version: 99 }) });
      assert.throws(() => parseCheckpoint(newer, "bad.safetensors"), /version 99 is newer/);
      const missing = serializeSafetensors(tensors.slice(1), { sladet: JSON.stringify(meta) });
      assert.throws(
        () => parseCheckpoint(missing, "bad.safetensors"),
        /bad\.safetensors: the metadata describes a detector of \d+ values, but the file holds \d+/,
      );
      const truncated = readFileSync(path).subarray(0, 1000);
      assert.throws(
        () => parseCheckpoint(truncated, "bad.safetensors"),
        /bad\.safetensors: not a valid safetensors file/,
      );
    } finally {
      model.dispose();
    }
  });
});

describe("sladet export", () => {
  test("the library call writes a checkpoint with the attribute head mapped from the seed's file", () => {
    const out = join(tmp, "export", "tiny14.safetensors");
    const report = exportPtCheckpoint({ weights: TINY14, attrWeights: fixturePath("models/seed_attr.pth"), out });
    assert.equal(report.weightsFrom, "ema");
    assert.deepEqual(report.attributes?.fresh, ["fcBox.weight", "fcSize.weight", "fcSize.bias"]);
    const loaded = loadCheckpoint(out);
    try {
      assert.ok(loaded.attributeHead);
      assert.equal(loaded.meta.attributes?.[0]?.name, "Cell Size");
      assert.equal(loaded.meta.origin?.["weightsFrom"], "ema");
      tidy(() => assertClose(predict(loaded.model, ref("tiny14/input")), ref("tiny14/decoded"), "exported"));
    } finally {
      loaded.model.dispose();
      loaded.attributeHead?.dispose();
    }
  });

  test("the CLI converts a .pt (to safetensors and to ONNX) and reports a hostile file as a user error", () => {
    const cli = join(REPO_ROOT, "bin", "sladet");
    const out = join(tmp, "cli.safetensors");
    const ok = spawnSync(cli, ["export", "--weights", TINY80, "--format", "safetensors", "--out", out], {
      encoding: "utf8",
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /model weights, nc 80, strides 8\/16\/32/);
    assert.ok(existsSync(out));
    const evil = join(tmp, "evil.pt");
    const bytes = storedZip([["archive/data.pkl", pickleBytes([0x80, 0x02], "cposix\nsystem\n.")]]);
    writeFileSync(evil, bytes);
    const bad = spawnSync(cli, ["export", "--weights", evil], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^sladet: .*evil\.pt.*refused to load the global "posix\.system"/);
    const onnx = join(tmp, "tiny80.onnx");
    const toOnnx = spawnSync(cli, ["export", "--weights", TINY80, "--format", "onnx", "--imgsz", "64", "--out", onnx], {
      encoding: "utf8",
    });
    assert.equal(toOnnx.status, 0, toOnnx.stderr);
    assert.match(toOnnx.stdout, /output0 \[batch, anchors, 85\][\s\S]*checked in onnxruntime/);
    assert.ok(existsSync(onnx));
    const fmt = spawnSync(cli, ["export", "--weights", TINY80, "--format", "tflite"], { encoding: "utf8" });
    assert.notEqual(fmt.status, 0);
    assert.match(fmt.stderr, /tflite/);
  });
});
