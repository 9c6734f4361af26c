/** The studio's guards as functions: the path rule, the Host check, the token comparison, the save's label checks. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { DataConfig } from "../../src/data/dataset-yaml.js";
import { LLD_ATTRIBUTES } from "../../src/data/schema.js";
import { labelsProblem } from "../../src/studio/label-store.js";
import { PathRefusedError, resolveInside, toApiPath } from "../../src/studio/paths.js";
import { hostHeaderAllowed, isLoopback, tokenMatches } from "../../src/studio/security.js";

const base = realpathSync(mkdtempSync(join(tmpdir(), "sladet-guards-")));
const root = join(base, "root");
mkdirSync(join(root, "images"), { recursive: true });
writeFileSync(join(base, "outside.txt"), "x");
symlinkSync(join(base, "outside.txt"), join(root, "images", "out.jpg"));
symlinkSync(base, join(root, "up"));
writeFileSync(join(root, "images", "in.jpg"), "x");
symlinkSync(join(root, "images", "in.jpg"), join(root, "alias.jpg"));
after(() => rmSync(base, { recursive: true, force: true }));

test("the path rule: inside the root only, links resolved, files not yet written allowed", () => {
  assert.equal(resolveInside(root, "images/in.jpg"), join(root, "images", "in.jpg"));
  assert.equal(resolveInside(root, "alias.jpg"), join(root, "alias.jpg"), "a link that stays inside");
  assert.equal(resolveInside(root, "labels/new/a.txt"), join(root, "labels", "new", "a.txt"));
  for (const bad of ["../outside.txt", "images/../../outside.txt", "/etc/passwd", "C:\\x", "\\\\host\\x", "", "a\0b"])
    assert.throws(() => resolveInside(root, bad), PathRefusedError, JSON.stringify(bad));
  assert.throws(() => resolveInside(root, "images/out.jpg"), /lies outside/, "a file link out");
  assert.throws(() => resolveInside(root, "up/outside.txt"), /lies outside/, "a folder link out");
  assert.throws(() => resolveInside(root, "up/new.txt"), /lies outside/, "a new file under a folder link out");
  assert.equal(toApiPath(root, join(root, "images", "in.jpg")), "images/in.jpg");
});

test("the Host check accepts the loopback on the studio's port only; tokens compare exactly", () => {
  for (const ok of ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST:8000", "127.0.0.1"])
    assert.ok(hostHeaderAllowed(ok, 8000), ok);
  for (const bad of ["127.0.0.1:8001", "evil.example:8000", "127.0.0.1.evil.example:8000", "", undefined])
    assert.ok(!hostHeaderAllowed(bad, 8000), String(bad));
  assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && !isLoopback("0.0.0.0"));
  assert.ok(tokenMatches("abc", "abc"));
  assert.ok(!tokenMatches("abc", "abd") && !tokenMatches("abc", "ab") && !tokenMatches("abc", ["abc"]));
});

test("labels that sladet check would refuse are named before anything is written", () => {
  const config = { nc: 2, attributes: LLD_ATTRIBUTES } as unknown as DataConfig;
  const size = { width: 100, height: 100 };
  const box = { cls: 1, xc: 0.5, yc: 0.5, w: 0.2, h: 0.2, attributes: [0, 1, 0, 1, 0, 1, -1] };
  const region = { x1: 20, y1: 20, x2: 80, y2: 80 };
  assert.equal(labelsProblem({ region, labels: [box] }, config, size), null);
  assert.equal(labelsProblem({ region: null, labels: [{ ...box, attributes: [] }] }, config, size), null);
  const problem = (labels: unknown[], r: typeof region | null = region) =>
    labelsProblem({ region: r, labels: labels as (typeof box)[] }, config, size);
  assert.match(problem([{ ...box, cls: 2 }])!, /box 1: class 2 is not one of the dataset's classes 0\.\.1/);
  assert.match(problem([box, { ...box, xc: 0.95 }])!, /box 2: the box must have a positive size/);
  assert.match(problem([{ ...box, w: 0 }])!, /positive size/);
  assert.match(problem([{ ...box, attributes: [3, 0, 0, 0, 0, 0, 0] }])!, /Cell Size value 3/);
  assert.match(problem([{ ...box, attributes: [0, 0] }])!, /2 attribute values, the dataset has 7/);
  assert.match(problem([{ ...box, xc: 0.1, w: 0.1 }])!, /centre lies outside the labelled region/);
  assert.match(problem([], { x1: 0, y1: 0, x2: 120, y2: 50 })!, /inside the 100×100 image/);
  assert.match(problem([], { x1: 50, y1: 0, x2: 40, y2: 50 })!, /x1 < x2/);
});
