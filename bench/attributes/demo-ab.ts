/**
 * The demo's attribute table before and after issue 25: the main job (`sladet demo`) with the seed's attribute
 * training (`seed`: the head reads the detector's HSV-jittered image, unbalanced loss) or sladet's defaults
 * (`default`), the same data, seeds and everything else; prints the test split's attribute table and the wall time.
 *
 *   bin/sladet-node dist/bench/attributes/demo-ab.js seed|default [OUT=/tmp/attr-demo-ab]
 */
import { join } from "node:path";
import { formatMainJobSummary, runMainJob } from "../../src/demo/main-job.js";
import { formatAttributeTable } from "../../src/eval/attribute-metrics.js";
import { runValidation } from "../../src/runs/val-run.js";
import { SEED_ATTRIBUTE_HYP } from "../../src/train/attribute-hyp.js";

const which = process.argv[2] ?? "default";
if (which !== "seed" && which !== "default") throw new Error(`expected seed or default, found ${which}`);
const out = join(process.argv[3] ?? "/tmp/attr-demo-ab", which);
const r = await runMainJob({ out, verbose: false, ...(which === "seed" ? { hyp: SEED_ATTRIBUTE_HYP } : {}) });
process.stdout.write(`\n${formatMainJobSummary(r)}\n`);
// the test run's table again, from its weights (runMainJob keeps only the summary numbers)
const test = await runValidation({
  data: r.data,
  weights: r.train.best,
  task: "test",
  imgsz: 192,
  project: join(out, "test-table"),
  verbose: false,
});
process.stdout.write(
  `\n${which}: test attribute table (phase-2 weights/best)\n${formatAttributeTable(test.attributes!)}\n`,
);
