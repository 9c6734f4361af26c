/**
 * The run commands: each writes a run folder and its report (design.md §3). Their defaults: ./defaults.ts.
 */
export * from "./defaults.js";
export { type DetectOptions, type DetectResult, runDetect } from "./detect-run.js";
export { type OnnxCommandOptions, type OnnxCommandResult, runOnnxExport } from "./export-run.js";
export { runTraining, type TrainingRunResult } from "./train-run.js";
export { runValidation, type ValRunOptions, type ValRunResult } from "./val-run.js";
