/** Shared test helpers: fixture paths and tensor comparison. */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { loadSafetensors, type Tensor } from "../src/torch/index.js";

/** Repository root (tests run from dist/test/...). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function fixturePath(name: string): string {
  return join(REPO_ROOT, "test", "fixtures", name);
}

export interface CloseOptions {
  /** Relative tolerance. @default 1e-5 */
  rtol?: number;
  /** Absolute tolerance as a fraction of max|expected|. @default 1e-5 */
  atolScale?: number;
}

/**
 * allclose with an absolute term scaled to the reference's magnitude: |a − e| ≤ atolScale·max|e| + rtol·|e|.
 * Shapes and dtypes must match; NaN matches NaN, ±Inf must match exactly.
 */
export function assertClose(actual: Tensor, expected: Tensor, label: string, options: CloseOptions = {}): void {
  const { rtol = 1e-5, atolScale = 1e-5 } = options;
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${label}: dtype`);
  const a = actual.toArray();
  const e = expected.toArray();
  const scale = e.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const atol = atolScale * Math.max(scale, 1e-12);
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y)) {
      assert.ok(Number.isNaN(x), `${label}[${i}]: expected NaN, found ${x}`);
    } else if (!Number.isFinite(y)) {
      assert.equal(x, y, `${label}[${i}]`);
    } else {
      assert.ok(
        Math.abs(x - y) <= atol + rtol * Math.abs(y),
        `${label}[${i}]: expected ${y}, found ${x} (atol ${atol})`,
      );
    }
  }
}

/** A golden fixture written by a tools/oracle script: its tensors, metadata, and a lookup that names the script. */
export interface Golden {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  /** The tensor under `key`; a missing key fails with the command that regenerates the fixture. */
  ref(key: string): Tensor;
  /** The tensors whose key starts with `prefix`, the prefix removed. */
  withPrefix(prefix: string): Map<string, Tensor>;
}

/** Loads test/fixtures/<file> (written by tools/oracle/<oracle>); its tensors are disposed after the test file. */
export function loadGolden(file: string, oracle: string): Golden {
  const { tensors, metadata } = loadSafetensors(fixturePath(file));
  after(() => {
    for (const t of tensors.values()) t.dispose();
  });
  return {
    tensors,
    metadata,
    ref(key) {
      const t = tensors.get(key);
      assert.ok(t, `fixture ${file}: ${key} missing: regenerate with /usr/bin/python3 tools/oracle/${oracle}`);
      return t;
    },
    withPrefix(prefix) {
      return new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    },
  };
}
