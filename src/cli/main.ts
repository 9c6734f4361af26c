#!/usr/bin/env node
/**
 * The `sladet` command line. Each command lives in its own file under src/cli/ and exports `register(program)`;
 * this file only lists them. Run through bin/sladet, which sets up the allocator and threads first.
 * Commands import the tensor engine (the native addon) lazily, inside their actions: `--help` and the data commands
 * never need it.
 */
import { Command, CommanderError } from "commander";
import { register as registerCheck } from "./check.js";
import { register as registerConvert } from "./convert.js";
import { register as registerDemo } from "./demo.js";
import { register as registerDetect } from "./detect.js";
import { reportCliError } from "./errors.js";
import { register as registerExport } from "./export.js";
import { register as registerPretrain } from "./pretrain.js";
import { register as registerSparsify } from "./sparsify.js";
import { register as registerStudio } from "./studio.js";
import { register as registerSynth } from "./synth.js";
import { register as registerTest } from "./test.js";
import { register as registerTrain } from "./train.js";
import { register as registerVal } from "./val.js";
import {
  rejectUnsupportedFlags,
  UNSUPPORTED_DETECT_FLAGS,
  UNSUPPORTED_TRAIN_FLAGS,
  UNSUPPORTED_VAL_FLAGS,
} from "./yolo-flags.js";

const registrars: Array<(program: Command) => void> = [
  registerDemo,
  registerCheck,
  registerConvert,
  registerSparsify,
  registerSynth,
  registerExport,
  registerPretrain,
  registerTrain,
  registerVal,
  registerTest,
  registerDetect,
  registerStudio,
];

/** YOLOv5's spellings (argparse prefixes and aliases the seed's commands use) → sladet's flag. */
const FLAG_ALIASES: Readonly<Record<string, string>> = {
  "--batch": "--batch-size",
  "--img": "--imgsz",
  "--img-size": "--imgsz",
  "--nproc-per-node": "--nproc", // torchrun's name
};

/** Rewrites aliased flags (also in --flag=value form). */
export function normaliseFlags(args: readonly string[]): string[] {
  return args.map((a) => {
    const [flag, ...rest] = a.split("=");
    const to = FLAG_ALIASES[flag!];
    return to ? [to, ...rest].join("=") : a;
  });
}

/** YOLOv5 flags each command refuses by name (checked before parsing, so the message says why). */
const UNSUPPORTED: Record<string, Readonly<Record<string, string>>> = {
  pretrain: UNSUPPORTED_TRAIN_FLAGS,
  val: UNSUPPORTED_VAL_FLAGS,
  test: UNSUPPORTED_VAL_FLAGS,
  detect: UNSUPPORTED_DETECT_FLAGS,
};

export async function main(argv: string[]): Promise<void> {
  const program = new Command("sladet")
    .description("White-blood-cell detection with attributes from sparse annotations (SLA-Det), on libtorch")
    .showHelpAfterError()
    .exitOverride();
  for (const register of registrars) register(program);
  try {
    const command = argv[2] ?? "";
    const table = UNSUPPORTED[command];
    if (table) rejectUnsupportedFlags(argv.slice(3), table, command);
    await program.parseAsync([...argv.slice(0, 3), ...normaliseFlags(argv.slice(3))]);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    process.exit(reportCliError(err));
  }
}

await main(process.argv);
