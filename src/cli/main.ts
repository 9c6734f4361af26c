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
import { reportCliError } from "./errors.js";
import { register as registerExport } from "./export.js";
import { register as registerSparsify } from "./sparsify.js";
import { register as registerSynth } from "./synth.js";

const registrars: Array<(program: Command) => void> = [
  registerDemo,
  registerCheck,
  registerConvert,
  registerSparsify,
  registerSynth,
  registerExport,
];

export async function main(argv: string[]): Promise<void> {
  const program = new Command("sladet")
    .description("White-blood-cell detection with attributes from sparse annotations (SLA-Det), on libtorch")
    .showHelpAfterError()
    .exitOverride();
  for (const register of registrars) register(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    process.exit(reportCliError(err));
  }
}

await main(process.argv);
