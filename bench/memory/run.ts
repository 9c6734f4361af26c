/**
 * Memory across the epochs of a training run (issue 24): after every epoch, the process's resident size (RSS now,
 * the peak within that epoch, and the peak so far), libtorch's live CPU bytes and tensors (the addon's counting
 * allocator), the JS heap and the ArrayBuffers; at the end, how flat memory stayed from epoch `--from` (3, counted
 * from 1) to the last epoch, judged on both the RSS at each epoch's end (the trainer has just returned freed pages to
 * the system: `releaseFreeMemory`) and each epoch's peak RSS (what a run must be given; what a leak raises).
 * One process: the trainer is called in-process and sampled through its epoch hook.
 *
 *   bin/sladet-node dist/bench/memory/run.js --data D.yaml [--cfg yolov5n] [--imgsz 640] [--batch 16]
 *     [--epochs 30] [--cache ram] [--hyp src/train/cfg/hyp.scratch-low.yaml] [--workers 2] [--from 3] [--out DIR]
 *   bin/sladet-node dist/bench/memory/run.js --synth 64 --cfg tiny --imgsz 128 …   (a synthetic dataset and
 *     the tests' tiny model: the small reproduction)
 *
 * BCCD as in BENCHMARKS.md: `bench/bccd/run.sh`'s conversion, then `--data /tmp/sladet-bccd/lld/data.yaml --cfg yolov5n
 * --imgsz 640 --batch 16 --epochs 30 --cache ram --hyp src/train/cfg/hyp.scratch-low.yaml --workers 2`. The run's peak
 * RSS, to set beside Ultralytics' `/usr/bin/time -v`, is the last line's `peak rss`: each sample restarts the kernel's
 * high-water mark (for the next epoch's peak), so `time -v` around this bench reports only the last epoch's end. Each
 * sample follows a full collection of the main thread's heap (what is retained, not garbage not yet collected;
 * bench/memory/sample.ts). Exits 1 when an epoch's end RSS or its peak RSS is more than `--tolerance` (5 %) above epoch
 * `--from`'s.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { collapseToOneClass, generateDataset } from "../../src/data/synth/index.js";
import { QUICKSTART_MODEL } from "../../src/demo/quickstart.js";
import { builtinModelYaml } from "../../src/model/config.js";
import { train } from "../../src/train/trainer.js";
import { flatness, formatSample, type MemorySample, sampleMemory } from "./sample.js";

async function syntheticData(out: string, images: number, imgsz: number): Promise<string> {
  await generateDataset({ out, images, seed: 1, imageSize: imgsz, split: [0.75, 0.25, 0], onImage: () => {} });
  return collapseToOneClass(out);
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      data: { type: "string" },
      synth: { type: "string" },
      cfg: { type: "string", default: "yolov5n" },
      imgsz: { type: "string", default: "640" },
      batch: { type: "string", default: "16" },
      epochs: { type: "string", default: "30" },
      cache: { type: "string", default: "ram" },
      hyp: { type: "string", default: "src/train/cfg/hyp.scratch-low.yaml" },
      workers: { type: "string", default: "2" },
      from: { type: "string", default: "3" },
      tolerance: { type: "string", default: "0.05" },
      out: { type: "string", default: "/tmp/sladet-memory" },
      seed: { type: "string", default: "0" },
    },
  });
  const out = resolve(a.out!);
  const imgsz = Number(a.imgsz);
  const data = a.data ?? (a.synth ? await syntheticData(join(out, "data"), Number(a.synth), imgsz) : null);
  if (!data) throw new Error("give --data D.yaml or --synth N (images of a synthetic dataset)");
  const samples: MemorySample[] = [];
  const print = (s: MemorySample) => process.stdout.write(`${formatSample(s)}\n`);
  await train(
    {
      data,
      cfg: a.cfg === "tiny" ? { ...builtinModelYaml("n"), ...QUICKSTART_MODEL } : a.cfg!,
      hyp: a.hyp!,
      imgsz,
      batch: Number(a.batch),
      epochs: Number(a.epochs),
      cache: a.cache === "none" ? false : (a.cache as "ram" | "disk"),
      workers: Number(a.workers),
      seed: Number(a.seed),
      project: join(out, "runs"),
      name: "memory",
      existOk: true,
      noautoanchor: true,
      verbose: false,
    },
    {
      onEpochEnd: async (epoch) => {
        const s = await sampleMemory(epoch);
        samples.push(s);
        print(s);
      },
    },
  );
  const from = Number(a.from);
  const f = flatness(samples, from);
  const mb = (g: { from: number; to: number; perEpoch: number }) =>
    `${g.from.toFixed(1)} → ${g.to.toFixed(1)} MiB (${g.perEpoch >= 0 ? "+" : ""}${g.perEpoch.toFixed(2)} MiB/epoch)`;
  process.stdout.write(
    `from epoch ${from} to ${samples.length}: each epoch's peak rss ${mb(f.epochPeak)}, max ${f.epochPeak.max.toFixed(1)} MiB = ${(100 * f.epochPeakRise).toFixed(1)} % above epoch ${from}; ` +
      `epoch-end rss ${mb(f.rss)}, max ${(100 * f.rssRise).toFixed(1)} % above epoch ${from}; ` +
      `native ${mb(f.native)}; heap ${mb(f.heap)}; arrayBuffers ${mb(f.arrayBuffers)}; peak rss ${samples.at(-1)!.hwm.toFixed(1)} MiB\n`,
  );
  const tolerance = Number(a.tolerance);
  for (const [what, rise] of [
    ["epoch-end rss", f.rssRise],
    ["epochs' peak rss", f.epochPeakRise],
  ] as const) {
    if (rise <= tolerance) continue;
    process.stdout.write(`NOT FLAT: the ${what} rose ${(100 * rise).toFixed(1)} % > ${100 * tolerance} %\n`);
    process.exitCode = 1;
  }
}

await main();
