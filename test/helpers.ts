/** Shared test helpers: fixture paths and tensor comparison. */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Tensor } from "../src/torch/index.js";

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
