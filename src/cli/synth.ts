/**
 * `sladet synth --out DIR --images N --seed S [--imgsz 640] [--sparse AREA] [--split 0.7,0.15,0.15]`: a synthetic
 * LLD-style dataset of blood-film fields of view; `--contact-sheet FILE` draws a sheet of samples instead.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { LLD_CLASS_NAMES } from "../data/schema.js";
import { makeContactSheet } from "../data/synth/contact-sheet.js";
import { DEFAULT_SPLIT, generateDataset, splitCounts } from "../data/synth/dataset.js";
import { IMAGE_FORMATS, type ImageFormat } from "../data/synth/encode.js";
import { MAX_MAGNIFICATION } from "../data/synth/generate-scene.js";
import { writeFileAtomic } from "../util/fs.js";
import { progress } from "../util/progress.js";
import { UserError } from "./errors.js";

/** Smallest and largest image sizes accepted (below 32 px a cell is a few pixels; above 4096 memory grows fast). */
const MIN_IMGSZ = 32;
const MAX_IMGSZ = 4096;

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*[+-]?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`expected an integer, found "${value}"`);
    }
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}], found ${n}`);
    return n;
  };
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 1) {
    throw new InvalidArgumentError(`expected an area fraction in (0, 1], found "${value}"`);
  }
  return n;
}

function magnification(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > MAX_MAGNIFICATION) {
    throw new InvalidArgumentError(`expected a factor in (0, ${MAX_MAGNIFICATION}], found "${value}"`);
  }
  return n;
}

function splitFractions(value: string): [number, number, number] {
  const parts = value.split(",").map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => p === "") || nums.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new InvalidArgumentError(
      `expected three non-negative fractions train,val,test (e.g. 0.7,0.15,0.15), found "${value}"`,
    );
  }
  const sum = nums[0]! + nums[1]! + nums[2]!;
  if (Math.abs(sum - 1) > 1e-6) throw new InvalidArgumentError(`fractions must sum to 1, found ${value} (sum ${sum})`);
  if (nums[0]! <= 0) throw new InvalidArgumentError("the train fraction must be positive");
  return [nums[0]!, nums[1]!, nums[2]!];
}

function imageFormat(value: string): ImageFormat {
  if (!(IMAGE_FORMATS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${IMAGE_FORMATS.join(", ")}, found "${value}"`);
  }
  return value as ImageFormat;
}

interface SynthFlags {
  out?: string;
  images?: number;
  seed: number;
  imgsz: number;
  magnification: number;
  sparse?: number;
  split: [number, number, number];
  format: ImageFormat;
  quality: number;
  force?: boolean;
  quiet?: boolean;
  contactSheet?: string;
}

async function writeSheet(flags: SynthFlags, file: string, print: Print): Promise<void> {
  const start = performance.now();
  const jpeg = await makeContactSheet({
    seed: flags.seed,
    imageSize: flags.imgsz,
    magnification: flags.magnification,
    sparseArea: flags.sparse ?? 0.2,
  });
  writeFileAtomic(file, jpeg);
  const secs = (performance.now() - start) / 1000;
  print(`wrote ${file} (${(jpeg.length / 1024).toFixed(0)} KiB) in ${secs.toFixed(1)} s\n`);
}

async function writeDataset(flags: SynthFlags, out: string, images: number, print: Print): Promise<void> {
  try {
    splitCounts(images, flags.split);
  } catch (err) {
    throw new UserError(`--images ${images} with --split ${flags.split.join(",")}: ${(err as Error).message}`);
  }
  if (!flags.force) {
    const taken = ["images", "labels", "annotations", "data.yaml"].filter((p) => existsSync(join(out, p)));
    if (taken.length > 0) {
      throw new UserError(`${out} already holds ${taken.join(", ")}; use --force to replace them, or another --out`);
    }
  }
  const bar = progress({ total: images, label: "synth", unit: "img", silent: flags.quiet ?? false });
  const summary = await generateDataset({
    out,
    images,
    seed: flags.seed,
    imageSize: flags.imgsz,
    magnification: flags.magnification,
    sparseArea: flags.sparse ?? null,
    split: flags.split,
    format: flags.format,
    quality: flags.quality,
    clean: flags.force ?? false,
    onImage: () => bar.tick(),
  });
  bar.stop();
  const lines = [
    `images: train ${summary.images.train}, val ${summary.images.val}, test ${summary.images.test}` +
      (flags.sparse !== undefined ? ` (train/val sparse, region area ${flags.sparse}; test dense)` : " (all dense)"),
    `cells: ${summary.cellsLabelled} labelled of ${summary.cellsDrawn} drawn`,
    ...summary.cellsPerClass.map((n, cls) => `  ${String(cls).padStart(2)} ${LLD_CLASS_NAMES[cls]!.padEnd(22)} ${n}`),
    `time: ${summary.seconds.toFixed(2)} s, ${summary.imagesPerSecond.toFixed(1)} images/s (${flags.format}, ${flags.imgsz} px)`,
    `wrote ${summary.dataYaml}`,
  ];
  print(`${lines.join("\n")}\n`);
}

/** Where the command prints its report. */
export type Print = (text: string) => void;

/** Adds `sladet synth` to `program`; `print` receives the report (default: stdout). */
export function register(program: Command, print: Print = (text) => void process.stdout.write(text)): void {
  program
    .command("synth")
    .description(
      "generate synthetic blood-film fields of view with white cells of the 14 LLD classes and visible attributes " +
        "(images/{train,val,test}, LLD labels, COCO JSON per split, data.yaml)",
    )
    .option("--out <dir>", "output folder")
    .option("--images <n>", "number of images over all splits", integer(1, 10_000_000))
    .option("--seed <n>", "random seed (same seed, same bytes)", integer(0, Number.MAX_SAFE_INTEGER), 0)
    .option("--imgsz <px>", "image width and height in pixels", integer(MIN_IMGSZ, MAX_IMGSZ), 640)
    .option(
      "--magnification <x>",
      "draw every object this many times larger than a 640 px LLD field of view scaled to --imgsz shows it (a narrower field)",
      magnification,
      1,
    )
    .option(
      "--sparse <area>",
      "label only a random region of this area fraction in train/val images (test stays dense)",
      fraction,
    )
    .addOption(
      new Option("--split <fractions>", "train,val,test fractions (each split with a positive fraction gets ≥ 1 image)")
        .argParser(splitFractions)
        .default([...DEFAULT_SPLIT], DEFAULT_SPLIT.join(",")),
    )
    .option("--format <fmt>", `image format: ${IMAGE_FORMATS.join(" | ")}`, imageFormat, "jpeg" as ImageFormat)
    .option("--quality <q>", "JPEG quality", integer(1, 100), 92)
    .option("--force", "replace the outputs of an earlier run in --out")
    .option("--quiet", "no progress display")
    .option(
      "--contact-sheet <file>",
      "write a JPEG contact sheet of samples (boxes, region, attribute codes); without --out, only that",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  sladet synth --out data/synth --images 2000 --seed 1 --sparse 0.2\n" +
        "  sladet synth --contact-sheet docs/synth-contact-sheet.jpg --seed 0\n",
    )
    .action(async (flags: SynthFlags) => {
      if (flags.contactSheet !== undefined) {
        await writeSheet(flags, flags.contactSheet, print);
        if (flags.out === undefined) return;
      }
      if (flags.out === undefined) throw new UserError("--out <dir> is required (or --contact-sheet <file>)");
      if (flags.images === undefined) throw new UserError("--images <n> is required");
      await writeDataset(flags, flags.out, flags.images, print);
    });
}
