/** Tensor creation, conversion, dtypes, devices and safetensors I/O. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  arange,
  DTYPES,
  full,
  linspace,
  loadSafetensors,
  ones,
  parseSafetensors,
  saveSafetensors,
  serializeSafetensors,
  tensor,
  tidy,
  zeros,
} from "../../src/torch/index.js";
import { fixturePath } from "../helpers.js";

describe("creation and conversion", () => {
  test("nested arrays give the shape; typed arrays keep their dtype", () => {
    tidy(() => {
      const a = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      assert.deepEqual(a.shape, [2, 3]);
      assert.equal(a.dtype, "float32");
      assert.deepEqual(a.toArray(), [1, 2, 3, 4, 5, 6]);
      const b = tensor(new Int32Array([1, 2, 3, 4]), [2, 2]);
      assert.equal(b.dtype, "int32");
      const c = tensor(new BigInt64Array([5n, -6n]));
      assert.equal(c.dtype, "int64");
      assert.deepEqual(c.toArray(), [5, -6]);
      assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
      assert.throws(() => tensor(new Float32Array(5), [2, 2]), /expected 16 bytes .* found 20/);
    });
  });

  test("every dtype round-trips through its typed array", () => {
    tidy(() => {
      for (const dtype of DTYPES) {
        const t = tensor([0, 1, 2, 3], undefined, {
          dtype: dtype === "float16" || dtype === "bfloat16" ? "float32" : dtype,
        }).to(dtype);
        assert.equal(t.dtype, dtype);
        const expected = dtype === "bool" ? [0, 1, 1, 1] : [0, 1, 2, 3];
        assert.deepEqual(t.toArray(), expected, dtype);
        const again = tensor(t.toTypedArray(), [4], { dtype });
        assert.deepEqual(again.toArray(), expected, `${dtype} from typed array`);
      }
      const half = tensor([1.5, -2], undefined, { dtype: "float16" });
      assert.deepEqual(Array.from(half.toTypedArray<"float16">()), [0x3e00, 0xc000]);
    });
  });

  test("factories", () => {
    tidy(() => {
      assert.deepEqual(zeros([2]).toArray(), [0, 0]);
      assert.deepEqual(ones([2], { dtype: "int64" }).toArray(), [1, 1]);
      assert.deepEqual(full([3], 7).toArray(), [7, 7, 7]);
      assert.equal(arange(5).dtype, "int64");
      assert.deepEqual(arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
      assert.deepEqual(linspace(0, 1, 3).toArray(), [0, 0.5, 1]);
      assert.equal(zeros([2], { requiresGrad: true }).requiresGrad, true);
    });
  });

  test("item, size, to(device)", () => {
    tidy(() => {
      const t = tensor([[3.5]]);
      assert.equal(t.item(), 3.5);
      assert.equal(t.size(-1), 1);
      assert.equal(t.to("cpu").device, "cpu");
      assert.throws(() => tensor([1, 2]).item(), /one element/);
    });
  });

  test("views share storage; clone and contiguous-of-transposed do not", async () => {
    const { native } = await import("../../src/torch/native.js");
    tidy(() => {
      const a = arange(6).reshape(2, 3);
      assert.ok(native.sameStorage(a.handle, a.transpose(0, 1).handle));
      assert.ok(native.sameStorage(a.handle, a.slice(1, 1).handle));
      assert.ok(!native.sameStorage(a.handle, a.clone().handle));
      assert.ok(!native.sameStorage(a.handle, a.transpose(0, 1).contiguous().handle));
    });
  });

  test("channelsLast keeps shape and values; a convolution of it gives the NCHW result", async () => {
    const { F, randn } = await import("../../src/torch/index.js");
    tidy(() => {
      const x = randn([2, 5, 7, 9]);
      const cl = x.channelsLast();
      assert.deepEqual(cl.shape, [2, 5, 7, 9]);
      assert.deepEqual(cl.toArray(), x.toArray(), "values read in logical order");
      const w = randn([4, 5, 3, 3]);
      const a = F.conv2d(x, w, null, { padding: 1 }).toArray() as number[];
      const b = F.conv2d(cl, w, null, { padding: 1 }).toArray() as number[];
      const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
      assert.ok(worst < 1e-4, `NHWC vs NCHW convolution: max difference ${worst}`);
    });
  });
});

describe("safetensors", () => {
  test("round trip of several dtypes with metadata, written atomically", () => {
    const dir = mkdtempSync(join(tmpdir(), "sladet-st-"));
    try {
      tidy(() => {
        const path = join(dir, "a.safetensors");
        const entries: Array<[string, ReturnType<typeof zeros>]> = [
          ["w", tensor([1.5, -2, 3], undefined, { dtype: "float32" })],
          ["i", tensor([1, 2], [2, 1], { dtype: "int64" })],
          ["h", tensor([0.5], undefined, { dtype: "float16" })],
          ["b", tensor([1, 0, 1], undefined, { dtype: "bool" })],
          ["empty", zeros([0, 3])],
        ];
        saveSafetensors(path, entries, { format: "pt", epoch: "3" });
        const loaded = loadSafetensors(path);
        assert.deepEqual(loaded.metadata, { format: "pt", epoch: "3" });
        assert.deepEqual([...loaded.tensors.keys()], ["w", "i", "h", "b", "empty"]);
        for (const [name, t] of entries) {
          const u = loaded.tensors.get(name)!;
          assert.equal(u.dtype, t.dtype, name);
          assert.deepEqual(u.shape, t.shape, name);
          assert.deepEqual(u.toArray(), t.toArray(), name);
        }
        const bytes = readFileSync(path);
        const headerLength = Number(bytes.readBigUInt64LE(0));
        assert.equal(headerLength % 8, 0, "header padded to 8 bytes");
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a file written by an independent writer (the Python oracle) loads", () => {
    const loaded = loadSafetensors(fixturePath("ops.safetensors"));
    assert.match(loaded.metadata["torch"] ?? "", /^1\.13/);
    assert.ok(loaded.tensors.size > 100);
    for (const t of loaded.tensors.values()) t.dispose();
  });

  test("corrupt files are refused with a reason", () => {
    const good = tidy(() => serializeSafetensors([["x", ones([4])]]));
    assert.throws(
      () => parseSafetensors(good.subarray(0, 4), { source: "f" }),
      /f: not a valid safetensors file: expected at least 8/,
    );
    assert.throws(() => parseSafetensors(good.subarray(0, good.byteLength - 4), { source: "f" }), /data_offsets/);
    const bad = new Uint8Array(good);
    bad[8] = "]".charCodeAt(0);
    assert.throws(() => parseSafetensors(bad, { source: "f" }), /header is not JSON/);
    const dir = mkdtempSync(join(tmpdir(), "sladet-st-"));
    writeFileSync(join(dir, "huge"), Buffer.from([255, 255, 255, 255, 0, 0, 0, 0, 1]));
    assert.throws(() => loadSafetensors(join(dir, "huge")), /header length .* exceeds/);
    rmSync(dir, { recursive: true, force: true });
  });
});
