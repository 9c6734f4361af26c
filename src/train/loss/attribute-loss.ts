/**
 * The attribute head's loss. a1..a6 (binary): the seed's asymmetric loss (ASL, multi-label over the 2 logits of each
 * attribute, one-hot targets; method.md §4.7) with γ+ 1, γ− 4, clip 0.08, the focusing weights computed without
 * gradient — but masked per attribute for unknown values (the seed dropped whole objects, and crashed on a1 = 2).
 * Normalised like the seed: summed, divided by the number of objects with at least one known attribute (equal to
 * the seed's loss when every attribute is known). a0 (Cell Size, 3 classes, which the seed never trained): softmax
 * cross-entropy over the objects whose size is known — a single-label problem, so no multi-label ASL.
 */
import { cat, F, noGrad, type Tensor, tensor, tidy, zeros } from "../../torch/index.js";

export interface AttributeLossHyp {
  /** ASL focusing exponent for positives. */
  gamma_pos: number;
  /** ASL focusing exponent for negatives. */
  gamma_neg: number;
  /** ASL probability margin added to negatives (p_neg = min(1 − p + clip, 1)). */
  clip: number;
  /** Floor of the probabilities inside the logs. */
  eps: number;
  /** Weight of the Cell Size cross-entropy in the total. */
  cell_size_weight: number;
  /**
   * Class balance of a1..a6: each attribute's training prior of value 1. A cell's ASL terms of attribute a are then
   * weighted 1 / (2 p_a) when its value is 1 and 1 / (2 (1 − p_a)) when it is 0 (sklearn's "balanced" class weights:
   * both values weigh half of the attribute's loss whatever their frequency, and the weights average 1 over the
   * training cells). Absent: every cell weighs 1 (the seed).
   */
  positive_priors?: readonly number[];
  /**
   * a1..a6 by softmax cross-entropy over each attribute's two logits (one label per attribute, as inference reads
   * them: argmax, softmax probabilities) instead of the seed's ASL, which treats the two logits as independent
   * sigmoids: with γ− 4 and clip 0.08 the wrong value's logit is barely pushed down, both logits rise together, and
   * their argmax carries little of what was learned. Absent or false: the seed's ASL.
   */
  binary_softmax?: boolean;
}

/** Priors are clamped to [ε, 1 − ε] before balancing, so a value never seen in training gets a finite weight. */
export const BALANCE_PRIOR_FLOOR = 0.02;

/**
 * [K, 6] weight of each cell's attribute term under {@link AttributeLossHyp.positive_priors} (values: [K, 6] 0/1,
 * anything else is masked by the caller).
 */
export function balanceWeights(values: Tensor, priors: readonly number[]): Tensor {
  if (priors.length !== 6) throw new Error(`positive_priors must hold 6 numbers (a1..a6), found ${priors.length}`);
  const p = priors.map((x) => Math.min(1 - BALANCE_PRIOR_FLOOR, Math.max(BALANCE_PRIOR_FLOOR, x)));
  return tidy(() => {
    const pos = tensor(
      p.map((x) => 0.5 / x),
      [1, 6],
    );
    const neg = tensor(
      p.map((x) => 0.5 / (1 - x)),
      [1, 6],
    );
    const y = values.float();
    return y.mul(pos).add(y.rsub(1).mul(neg));
  });
}

/** The seed's values (my_model.py passes clip 0.08; ASL's own default is 0.05). */
export const SEED_ATTRIBUTE_LOSS: Readonly<AttributeLossHyp> = {
  gamma_pos: 1,
  gamma_neg: 4,
  clip: 0.08,
  eps: 1e-8,
  cell_size_weight: 1,
};

export interface AttributeLossResult {
  /** Total, 0-d, differentiable. */
  loss: Tensor;
  /** Binary-attribute (ASL) and Cell Size (CE) parts, detached numbers. */
  binary: number;
  cellSize: number;
}

/** Elementwise ASL term (to be summed) of logits x against 0/1 targets y. */
export function asymmetricLossTerms(x: Tensor, y: Tensor, hyp: AttributeLossHyp): Tensor {
  return tidy(() => {
    const p = x.sigmoid();
    const pNeg = p.rsub(1 + hyp.clip).clamp(null, 1);
    const logTerm = y.mul(p.clamp(hyp.eps).log()).add(y.rsub(1).mul(pNeg.clamp(hyp.eps).log()));
    const weight = noGrad(() => {
      const pT = p.mul(y).add(pNeg.mul(y.rsub(1)));
      const gamma = y.mul(hyp.gamma_pos).add(y.rsub(1).mul(hyp.gamma_neg));
      return pT.rsub(1).pow(gamma);
    });
    return logTerm.mul(weight).neg();
  });
}

/**
 * @param cellSize [K, 3] logits; @param binary [K, 6, 2] logits
 * @param attributes [K, 7] ground-truth values a0..a6 (−1 or any out-of-range value = unknown)
 */
export function attributeLoss(
  cellSize: Tensor,
  binary: Tensor,
  attributes: Tensor,
  hyp: AttributeLossHyp = SEED_ATTRIBUTE_LOSS,
): AttributeLossResult {
  return tidy(() => {
    const k = attributes.size(0);
    const values = attributes.slice(1, 1, 7).round().long(); // [K, 6]
    const known = values.ge(0).logicalAnd(values.le(1)); // [K, 6]
    const target = zeros([k, 6, 2]).scatter(2, values.clamp(0, 1).unsqueeze(2), 1).mul(known.unsqueeze(2).float());
    let mask = known.float();
    if (hyp.positive_priors) mask = mask.mul(balanceWeights(values.clamp(0, 1), hyp.positive_priors));
    const terms = hyp.binary_softmax
      ? binary.logSoftmax(2).mul(target).sum(2).neg().mul(mask)
      : asymmetricLossTerms(binary, target, hyp).mul(mask.unsqueeze(2));
    const objects = known.any(1).sum().item();
    const binaryLoss = terms.sum().div(Math.max(objects, 1));
    const size = attributes.select(1, 0).round().long();
    const sizeKnown = size.ge(0).logicalAnd(size.le(cellSize.size(1) - 1));
    const nSize = sizeKnown.sum().item();
    const sizeLoss =
      nSize > 0 ? F.crossEntropy(cellSize.index(sizeKnown), size.index(sizeKnown)) : cellSize.sum().mul(0);
    const loss = binaryLoss.add(sizeLoss.mul(hyp.cell_size_weight));
    const parts = cat([binaryLoss.detach().reshape(1), sizeLoss.detach().reshape(1)]).toArray();
    return { loss, binary: parts[0]!, cellSize: parts[1]! };
  });
}
