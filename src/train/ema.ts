/**
 * Model exponential moving average (YOLOv5's ModelEMA): after every optimizer step, ema ← d·ema + (1 − d)·model over
 * all floating-point parameters and buffers, with the decay ramped up as d = decay · (1 − exp(−updates / tau)) so early
 * averages are not dominated by the random initial weights. Validation and best checkpoints use the EMA. A fine-tune
 * (phase 2) may set a floor under that decay, so that its EMA averages over a given number of its own epochs however
 * few updates the ramp has counted (sladet's, issue 26: ft_ema_epochs).
 */
import { emaUpdate, type Module, noGrad } from "../torch/index.js";

/** Final decay (YOLOv5's 0.9999). */
export const EMA_DECAY = 0.9999;
/** Ramp time constant in updates (YOLOv5's 2000). */
export const EMA_TAU = 2000;

export class ModelEMA<M extends Module> {
  updates: number;

  /**
   * @param ema a separate model of the same architecture; it is loaded with `model`'s state and put in eval mode
   */
  constructor(
    readonly ema: M,
    model: Module,
    options: { updates?: number; decay?: number; tau?: number; floor?: number } = {},
  ) {
    this.updates = options.updates ?? 0;
    this.decay = options.decay ?? EMA_DECAY;
    this.tau = options.tau ?? EMA_TAU;
    this.floor = options.floor ?? 0;
    ema.loadStateDict(model.stateDict());
    ema.eval();
    for (const p of ema.parameters()) p.data.requiresGrad_(false);
  }
  readonly decay: number;
  readonly tau: number;
  /** The lowest decay (0: YOLOv5's ramp alone). */
  readonly floor: number;

  /** The decay of the next update: YOLOv5's ramp, at least {@link floor}. */
  currentDecay(): number {
    return Math.max(this.floor, this.decay * (1 - Math.exp(-this.updates / this.tau)));
  }

  update(model: Module): void {
    this.updates++;
    const d = this.currentDecay();
    noGrad(() => emaUpdate(this.ema, model, d));
  }
}
