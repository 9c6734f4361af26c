/**
 * `sladet pretrain` and `sladet train` as a library call: a training run (src/train: phase 1, or phase 2 with `sla`),
 * then its run report, report.html, written from the run folder it left.
 */
import { tryWriteRunReport } from "../report/index.js";
import { type TrainOptions, type TrainResult, train } from "../train/trainer.js";

/** What a training run did, with its report. */
export interface TrainingRunResult extends TrainResult {
  /** report.html; null when it could not be written (the reason was printed). */
  report: string | null;
}

/** Trains (see {@link train}), then writes the run's report.html; prints where the report is unless `verbose` is false. */
export async function runTraining(options: TrainOptions): Promise<TrainingRunResult> {
  const result = await train(options);
  if (result.rank !== 0) return { ...result, report: null }; // rank 0 writes the run folder
  const report = await tryWriteRunReport(result.runDir);
  if (report && (options.verbose ?? true)) process.stdout.write(`report: ${report}\n`);
  return { ...result, report };
}
