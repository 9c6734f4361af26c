import assert from "node:assert/strict";
import { test } from "node:test";
import { hashSeed, Rng, Stream } from "../../../src/data/synth/rng.js";

test("the same seed gives the same sequence, another seed another one", () => {
  const draw = (seed: number) => {
    const r = new Rng(seed);
    return Array.from({ length: 50 }, () => r.u32());
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
});

test("image streams depend on seed, index and stream only", () => {
  const first = (seed: number, index: number, stream: number) => Rng.forImage(seed, index, stream).u32();
  assert.equal(first(1, 5, Stream.scene), first(1, 5, Stream.scene));
  const values = new Set([
    first(1, 5, Stream.scene),
    first(1, 6, Stream.scene),
    first(2, 5, Stream.scene),
    first(1, 5, Stream.region),
    first(1, 5, Stream.pixelNoise),
  ]);
  assert.equal(values.size, 5);
  // Seeds beyond 32 bits stay distinct.
  assert.notEqual(hashSeed(1), hashSeed(1 + 2 ** 32));
});

test("draws are in range and roughly uniform / normal", () => {
  const r = new Rng(7);
  const n = 20000;
  let sum = 0;
  let sumSq = 0;
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < n; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    buckets[Math.floor(f * 10)]!++;
    const k = r.int(3, 5);
    assert.ok(k >= 3 && k <= 5 && Number.isInteger(k));
    const z = r.normal();
    sum += z;
    sumSq += z * z;
  }
  for (const b of buckets) assert.ok(Math.abs(b - n / 10) < n / 50, `bucket ${b}`);
  assert.ok(Math.abs(sum / n) < 0.05);
  assert.ok(Math.abs(sumSq / n - 1) < 0.05);
  const w = [0, 3, 1];
  const counts = [0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[r.weighted(w)]!++;
  assert.equal(counts[0], 0);
  assert.ok(counts[1]! > 2 * counts[2]!);
});
