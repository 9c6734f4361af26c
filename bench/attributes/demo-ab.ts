/**
 * The demo's attribute table with the seed's attribute training, with issue 25's first options, or with sladet's
 * defaults: the main job (`sladet demo`) with `seed` (the head reads the detector's HSV-jittered image, ASL,
 * unbalanced), `options` (`attr_softmax 1`, `attr_hsv 0`, `attr_balance 1`, `attr_size_box 1`) or `defaults`
 * (DEFAULT_ATTRIBUTE_HYP), each with the JSON's attribute keys over it, the same data, seeds and everything else;
 * prints the test split's attribute table and the wall time.
 *
 *   bin/sladet-node dist/bench/attributes/demo-ab.js seed|options|defaults[:LABEL] [OUT=/tmp/attr-demo-ab] [SEED=0]
 *     [MAGNIFICATION=2] ['{"attr_dropout":0}'] ['{"images":480,"pretrainEpochs":20,"trainEpochs":4}']
 *
 * SEED is the main job's (data and training), MAGNIFICATION its films' (`sladet synth --magnification`; the demo's
 * DEMO_MAGNIFICATION by default); the runs go to OUT/<which><LABEL>-s<SEED>-m<MAGNIFICATION>. The last JSON sets the
 * main job's own options (MainJobOptions: films, epochs of each phase, labelled area), the demo's by default.
 */
import { join } from "node:path";
import { DEMO_MAGNIFICATION, formatMainJobSummary, type MainJobOptions, runMainJob } from "../../src/demo/main-job.js";
import { formatAttributeTable } from "../../src/eval/attribute-metrics.js";
import { runValidation } from "../../src/runs/val-run.js";
import { DEFAULT_ATTRIBUTE_HYP, SEED_ATTRIBUTE_HYP } from "../../src/train/attribute-hyp.js";

/**
 * Issue 25's options, measured on the head alone (BENCHMARKS.md, "Attributes: what the head needs"), with Cell Size
 * read from the box too (attr_size_box: under attr_softmax alone Cell Size fell in the demo, 2 seeds).
 */
const ATTRIBUTE_OPTIONS = { ...SEED_ATTRIBUTE_HYP, attr_softmax: 1, attr_hsv: 0, attr_balance: 1, attr_size_box: 1 };

const BASES = { seed: SEED_ATTRIBUTE_HYP, options: ATTRIBUTE_OPTIONS, defaults: DEFAULT_ATTRIBUTE_HYP } as const;
const [which = "options", label = ""] = (process.argv[2] ?? "options").split(":");
if (!(which in BASES)) throw new Error(`expected seed, options or defaults, found ${which}`);
const hyp = { ...BASES[which as keyof typeof BASES], ...(process.argv[6] ? JSON.parse(process.argv[6]) : {}) };
const seed = Number(process.argv[4] ?? 0);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`SEED: expected an integer >= 0, found ${process.argv[4]}`);
const magnification = Number(process.argv[5] ?? DEMO_MAGNIFICATION);
const out = join(process.argv[3] ?? "/tmp/attr-demo-ab", `${which}${label}-s${seed}-m${magnification}`);
const job = (process.argv[7] ? JSON.parse(process.argv[7]) : {}) as MainJobOptions;
const started = performance.now();
const r = await runMainJob({ ...job, out, seed, magnification, verbose: false, hyp });
const minutes = (performance.now() - started) / 60000;
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
  `\n${which}${label} ${JSON.stringify(hyp)} ${JSON.stringify(job)}, seed ${seed}, magnification ${magnification}: test attribute table (phase-2 weights/best; main job ${minutes.toFixed(1)} min)\n${formatAttributeTable(test.attributes!)}\n`,
);
