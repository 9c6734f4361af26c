/**
 * Phase 2's behaviour switches (torch-free, so the command line can read them without loading the engine).
 */

/** Which detector proposes pseudo-labels. */
export type Proposer = "student" | "ema";
export const PROPOSERS: readonly Proposer[] = ["student", "ema"];

/** The triplet's sign: "conventional" (ours, the default) or "seed" (the original code's, which pushes positives apart). */
export type TripletSign = "conventional" | "seed";
export const TRIPLET_SIGNS: readonly TripletSign[] = ["conventional", "seed"];

export interface SlaOptions {
  /** @default "ema" */
  proposer: Proposer;
  /** @default "conventional" */
  tripletSign: TripletSign;
  /** Keep pseudo-labels and anchors centred in the labelled region (the seed's behaviour). @default false */
  plInRegion: boolean;
}

/** sladet's phase-2 behaviour (design.md §4.6–4.7): the EMA model proposes, the conventional triplet, no pseudo-labels in regions. */
export const DEFAULT_SLA_OPTIONS: Readonly<SlaOptions> = {
  proposer: "ema",
  tripletSign: "conventional",
  plInRegion: false,
};

/** The seed's phase-2 behaviour, for comparison runs (method.md §4.3–4.5). */
export const SEED_SLA_OPTIONS: Readonly<SlaOptions> = { proposer: "student", tripletSign: "seed", plInRegion: true };
