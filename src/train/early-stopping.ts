/** Stops training when fitness has not improved for `patience` epochs (YOLOv5's EarlyStopping; default 100). */
export const DEFAULT_PATIENCE = 100;

export class EarlyStopping {
  bestFitness = 0;
  bestEpoch = 0;

  constructor(readonly patience: number = DEFAULT_PATIENCE) {}

  /** Records an epoch; returns true when training should stop. patience ≤ 0 never stops. */
  step(epoch: number, fitness: number): boolean {
    if (fitness >= this.bestFitness) {
      this.bestEpoch = epoch;
      this.bestFitness = fitness;
    }
    return this.patience > 0 && epoch - this.bestEpoch >= this.patience;
  }
}
