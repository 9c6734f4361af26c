/** Evaluates a {@link NucleusSpec}: the coverage of its parts, bridges and notch at a pixel. */
import type { NucleusSpec } from "./scene.js";
import { type Box, type CapsuleParams, capsuleCoverage, capsuleExtent, RadialShape, unionBox } from "./shapes.js";

/** A nucleus ready to evaluate per pixel. */
export class NucleusShape {
  private readonly parts: RadialShape[];
  private readonly bridges: readonly CapsuleParams[];
  private readonly notch: RadialShape | null;

  constructor(readonly spec: NucleusSpec) {
    this.parts = spec.parts.map((p) => new RadialShape(p));
    this.bridges = spec.bridges;
    this.notch = spec.notch ? new RadialShape(spec.notch) : null;
  }

  /** Coverage in [0, 1] at (px, py). */
  coverage(px: number, py: number): number {
    let c = 0;
    for (const part of this.parts) {
      const v = part.coverage(px, py);
      if (v > c) c = v;
      if (c >= 1) break;
    }
    if (c < 1) {
      for (const b of this.bridges) {
        const v = capsuleCoverage(b, px, py);
        if (v > c) c = v;
      }
    }
    if (c > 0 && this.notch) c *= 1 - this.notch.coverage(px, py);
    return c;
  }

  /** Darkening of the folds at (px, py): 0 = none, up to 1 on a crease. */
  fold(px: number, py: number): number {
    let f = 0;
    for (const fold of this.spec.folds) {
      const v = capsuleCoverage(fold, px, py);
      if (v > f) f = v;
    }
    return f;
  }

  /** The box of everything the nucleus touches. */
  extent(): Box {
    let box = this.parts[0]!.extent();
    for (const p of this.parts) box = unionBox(box, p.extent());
    for (const b of this.bridges) box = unionBox(box, capsuleExtent(b));
    return box;
  }
}
