/**
 * `sladet demo`: the README's main job (src/demo/main-job.ts: sparse synthetic films → phase 1 → phase 2 → test →
 * detect, with reports); `--quick`, phase 1 alone in about a minute; `--engine`, a few training steps of a small conv
 * net on the libtorch engine, with the loss printed.
 */
import type { Command } from "commander";
import { progress } from "../util/progress.js";
import { formatTable } from "../util/table.js";
import { parseIntOption, parsePositiveFloat } from "./options.js";

interface EngineFlags {
  steps: number;
  batch: number;
  imgsz: number;
  lr: number;
  seed: number;
}

export function register(program: Command): void {
  program
    .command("demo")
    .description(
      "the whole pipeline on synthetic blood films: data, phase 1, phase 2, test, detect, reports (--quick: phase 1 only)",
    )
    .option("--engine", "only the engine demo: a small conv net trained for --steps steps", false)
    .option("--quick", "only phase 1 on 64 dense films at 128 px (about a minute), then the validation table", false)
    .option("--out <dir>", "pipeline demo: output folder", "runs/demo")
    .option("--epochs <n>", "--quick: training epochs", parseIntOption("--epochs", 1), 100)
    .option("--steps <n>", "engine demo: training steps", parseIntOption("--steps", 1), 40)
    .option("--batch <n>", "engine demo: batch size", parseIntOption("--batch", 1), 8)
    .option("--imgsz <px>", "engine demo: image side in pixels (multiple of 2)", parseIntOption("--imgsz", 8), 64)
    .option("--lr <x>", "engine demo: SGD learning rate", parsePositiveFloat("--lr"), 0.05)
    .option("--seed <n>", "random seed", parseIntOption("--seed", 0), 0)
    .action(async (opts: EngineFlags & { engine: boolean; quick: boolean; out: string; epochs: number }) => {
      if (!opts.engine && !opts.quick) {
        const { runMainJob, formatMainJobSummary } = await import("../demo/main-job.js");
        const { asUserErrors } = await import("./user-errors.js");
        const r = await asUserErrors(() => runMainJob({ out: opts.out, seed: opts.seed }));
        process.stdout.write(`\n${formatMainJobSummary(r)}\n`);
        return;
      }
      if (opts.quick) {
        const { runQuickstart } = await import("../demo/quickstart.js");
        const r = await runQuickstart({ out: opts.out, epochs: opts.epochs, seed: opts.seed });
        process.stdout.write(
          `\nbest fitness ${r.bestFitness.toFixed(3)}; run folder ${r.runDir}\n` +
            `next: sladet val --data ${r.data} --weights ${r.best} --img 128\n`,
        );
        return;
      }
      // The engine is loaded only when a command needs it, so data commands work without the native addon.
      const { runEngineDemo } = await import("../demo/engine-demo.js");
      const { getNumThreads, torchVersion } = await import("../torch/index.js");
      process.stdout.write(`sladet engine demo: libtorch ${torchVersion}, ${getNumThreads()} threads\n`);
      const bar = progress({ total: opts.steps, label: "train", unit: "step" });
      const t0 = performance.now();
      const result = runEngineDemo({
        ...opts,
        onStep: (step, loss) => {
          bar.tick(1, { loss });
          if (step % 10 === 0 || step === opts.steps - 1)
            process.stdout.write(`step ${step + 1} loss ${loss.toFixed(4)}\n`);
        },
      });
      bar.stop();
      const secs = (performance.now() - t0) / 1000;
      const first = result.losses[0] ?? Number.NaN;
      const last = result.losses[result.losses.length - 1] ?? Number.NaN;
      const mib = (b: number) => (b / 2 ** 20).toFixed(2);
      const table = formatTable([
        ["", "step 1", `step ${opts.steps}`],
        ["loss", first.toFixed(4), last.toFixed(4)],
        ["native MiB", mib(result.memoryFirst.allocatedBytes), mib(result.memoryLast.allocatedBytes)],
        ["live tensors", String(result.memoryFirst.liveTensors), String(result.memoryLast.liveTensors)],
      ]);
      process.stdout.write(`\n${table}\n`);
      process.stdout.write(`${opts.steps} steps in ${secs.toFixed(1)} s (${(opts.steps / secs).toFixed(1)} steps/s)\n`);
    });
}
