/** YOLOv5's `box_candidates`: which boxes survive a geometric transform (not too thin, small or elongated). */
import { BOX_CANDIDATES, type BoxCandidateOptions } from "./hyp.js";

const EPS = 1e-16;

/**
 * True when the box after a transform (w2 × h2) is kept, given its size before (w1 × h1, already multiplied by the
 * transform's scale): w2 and h2 above `whThr` pixels, area ratio above `areaThr`, aspect ratio below `arThr`.
 */
export function isBoxCandidate(
  w1: number,
  h1: number,
  w2: number,
  h2: number,
  options: BoxCandidateOptions = {},
): boolean {
  const { whThr = BOX_CANDIDATES.whThr, arThr = BOX_CANDIDATES.arThr, areaThr = BOX_CANDIDATES.areaThr } = options;
  const ar = Math.max(w2 / (h2 + EPS), h2 / (w2 + EPS));
  return w2 > whThr && h2 > whThr && (w2 * h2) / (w1 * h1 + EPS) > areaThr && ar < arThr;
}
