/**
 * The defaults that tell the two training phases apart (design.md §4.4): phase 1 (`sladet pretrain`, the library's
 * `pretrain`) trains the detector on the region-masked loss; phase 2 (`sladet train`, the library's `train`) adds
 * pseudo-labels and the similarity loss, from phase 1's weights, with the seed README's smaller batch and fewer epochs.
 * The CLI and the public API read them here, so each has one place.
 */
import { join } from "node:path";

/** Where a phase's runs go, how long it trains and its batch size. */
export interface PhaseDefaults {
  /** Run folders go to `<project>/<name>`. */
  readonly project: string;
  readonly epochs: number;
  readonly batch: number;
}

/** Phase 1 (YOLOv5's train.py defaults, as the seed's pretraining command runs it). */
export const PRETRAIN_DEFAULTS: PhaseDefaults = { project: join("runs", "pretrain"), epochs: 100, batch: 16 };

/** Phase 2 (the seed README's `train.py` command: batch 4, 30 epochs). */
export const TRAIN_DEFAULTS: PhaseDefaults = { project: join("runs", "train"), epochs: 30, batch: 4 };
