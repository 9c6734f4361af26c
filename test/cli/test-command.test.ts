/**
 * `sladet test` (the seed's test.py) and the attribute part of `sladet val`, on the shared trained detector with an
 * attribute head attached: the tables, attributes/<split>.csv with the seed's columns and one row per matched cell,
 * never appended across runs, the Cell Size matrix, weights given as a run folder or found as the newest run's best.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { generateDataset } from "../../src/data/synth/index.js";
import { SEED_ATTRIBUTE_COLUMNS } from "../../src/eval/attribute-eval.js";
import { parseCsv } from "../../src/util/csv.js";
import { type TrainedFixture, trainedFixture } from "../helpers/trained-fixture.js";
import { saveWithAttributeHead } from "../helpers/with-head.js";
import { fixturePath, REPO_ROOT } from "../helpers.js";

let work: string;
let fixture: TrainedFixture;
let withHead: string;
let dataYaml: string;

const sladet = (args: string[], cwd = REPO_ROOT) =>
  spawnSync(join(REPO_ROOT, "bin", "sladet"), args, { encoding: "utf8", cwd, env: { ...process.env, CI: "1" } });

before(async () => {
  work = mkdtempSync(join(tmpdir(), "sladet-test-cmd-"));
  fixture = await trainedFixture();
  // the fixture's detector with a (seeded, untrained) attribute head: what is scored is the plumbing, not the head
  withHead = join(work, "with-head.safetensors");
  saveWithAttributeHead(fixture.best, withHead);
  // the fixture has no test images: a dataset YAML whose test split is its val split
  dataYaml = join(work, "data.yaml");
  const src = readFileSync(fixture.dataYaml, "utf8").replace(/^test: .*$/m, "test: images/val");
  writeFileSync(dataYaml, `path: ${dirname(fixture.dataYaml)}\n${src}`);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Header and rows of a CSV written by sladet. */
function readCsv(path: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(readFileSync(path, "utf8"));
  return { header: header ?? [], rows };
}

describe("sladet test", () => {
  test("prints the detection and attribute tables and writes attributes/test.csv, one row per matched cell", () => {
    const r = sladet(["test", "--weights", withHead, "--data", dataYaml, "--img", "128", "--project", join(work, "t")]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Class\s+Images\s+Instances\s+P\s+R\s+mAP50\s+mAP50-95/);
    assert.match(
      r.stdout,
      /Attribute\s+Cells\s+Accuracy\s+Precision\s+Recall\s+F1\s+Macro F1\s+Bal\. acc\.\s+Majority/,
    );
    assert.match(r.stdout, /Cell Size: true \\ predicted\s+Small\s+Medium\s+Large/);
    const run = join(work, "t", "exp");
    const metrics = JSON.parse(readFileSync(join(run, "metrics.json"), "utf8"));
    assert.equal(metrics.task, "test");
    const csv = readCsv(join(run, "attributes", "test.csv"));
    assert.deepEqual(csv.header, [
      ...SEED_ATTRIBUTE_COLUMNS,
      "Cell Size",
      "pred_Cell Size",
      "class",
      "x1",
      "y1",
      "x2",
      "y2",
      "iou",
    ]);
    const matched = metrics.all.instances - metrics.attributes.unmatched;
    assert.ok(matched > 0, "the trained detector matches some cells");
    assert.equal(csv.rows.length, matched);
    for (const row of csv.rows) {
      assert.equal(row.length, 21);
      assert.ok(Number(row[20]) >= 0.5, `IoU ${row[20]} ≥ 0.5`);
      for (const v of row.slice(7, 13)) assert.match(v!, /^[01]$/, "binary predictions");
      assert.match(row[14]!, /^[012]$/, "Cell Size prediction");
    }
    const cellSize = metrics.attributes.attributes[0];
    assert.equal(
      cellSize.confusion.flat().reduce((a: number, b: number) => a + b, 0),
      csv.rows.filter((row) => row[13] !== "").length,
      "the Cell Size matrix counts the rows whose Cell Size is known",
    );
    assert.ok(existsSync(join(run, "attributes", "cell_size_confusion.csv")));

    const again = sladet([
      "test",
      "--weights",
      withHead,
      "--data",
      dataYaml,
      "--img",
      "128",
      "--project",
      join(work, "t"),
    ]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(
      readCsv(join(work, "t", "exp2", "attributes", "test.csv")).rows.length,
      matched,
      "a new run, not appended",
    );
  });

  test("--weights as a run folder takes its weights/best; without --weights the newest run's best", () => {
    const r = sladet([
      "test",
      "--weights",
      fixture.runDir,
      "--data",
      dataYaml,
      "--img",
      "128",
      "--project",
      join(work, "f"),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`test: ${join(fixture.runDir, "weights", "best.safetensors")}`));
    const metrics = JSON.parse(readFileSync(join(work, "f", "exp", "metrics.json"), "utf8"));
    assert.equal(metrics.attributes, null, "no head in the weights: no attribute evaluation");
    assert.ok(!existsSync(join(work, "f", "exp", "attributes")));

    const cwd = join(work, "cwd");
    mkdirSync(join(cwd, "runs", "pretrain", "a", "weights"), { recursive: true });
    cpSync(withHead, join(cwd, "runs", "pretrain", "a", "weights", "best.safetensors"));
    const d = sladet(["test", "--data", dataYaml, "--img", "128"], cwd);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /test: runs\/pretrain\/a\/weights\/best\.safetensors/);
    assert.ok(existsSync(join(cwd, "runs", "test", "exp", "attributes", "test.csv")));

    const none = sladet(["test", "--data", dataYaml], join(work, "f"));
    assert.notEqual(none.status, 0);
    assert.match(
      none.stderr,
      /no --weights given and no weights\/best\.safetensors under runs\/train or runs\/pretrain/,
    );
  });
});

test("sladet val with a head evaluates attributes into attributes/val.csv", () => {
  const r = sladet(["val", "--weights", withHead, "--data", dataYaml, "--img", "128", "--project", join(work, "v")]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /mean F1 of a1\.\.a6 \(the seed's summary\)/);
  assert.ok(readCsv(join(work, "v", "exp", "attributes", "val.csv")).rows.length > 0);
});

test("a YOLOv5 .pt is tested with the seed's head from Attribute_model/last_weights.pth, as test.py does", async () => {
  const cwd = join(work, "seed");
  const data = join(cwd, "data");
  await generateDataset({ out: data, images: 6, seed: 2, imageSize: 64, split: [0.4, 0.2, 0.4], onImage: () => {} });
  mkdirSync(join(cwd, "Attribute_model"), { recursive: true });
  cpSync(fixturePath("models/seed_attr.pth"), join(cwd, "Attribute_model", "last_weights.pth"));
  const r = sladet(
    ["test", "--weights", fixturePath("models/tiny14.pt"), "--data", join(data, "data.yaml"), "--img", "64"],
    cwd,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /with the attribute head Attribute_model\/last_weights\.pth/);
  assert.match(r.stdout, /initialised fresh: fcBox\.weight, fcSize\.weight, fcSize\.bias/);
  const metrics = JSON.parse(readFileSync(join(cwd, "runs", "test", "exp", "metrics.json"), "utf8"));
  assert.ok(metrics.attributes, "attributes evaluated with the seed's head");
  assert.equal(metrics.attrWeights, join("Attribute_model", "last_weights.pth"));
  assert.ok(existsSync(join(cwd, "runs", "test", "exp", "attributes", "test.csv")));
});
