/**
 * How readable the fine attribute cues of `sladet synth` films are (issue 25): for the white cells of a set of
 * generated scenes, how many Prominent-vacuole cells lie in a defocused field or have a vacuole over the nucleus,
 * how many Inconspicuous-nucleolus cells still show a clear hole inside the nucleus (a vacuole over it), and how many
 * Prominent-nucleolus cells are defocused or have coarse chromatin or granules over them. Nothing is rendered: the
 * counts come from the scene descriptions, so they are exact for the films `sladet synth` and the demo write.
 *
 *   bin/sladet-node dist/bench/attributes/cue-visibility.js [--images 160] [--imgsz 192] [--magnification 2] [--seed 0]
 *
 * Defaults = the demo's films (src/demo/main-job.ts).
 */
import { parseArgs } from "node:util";
import { generateScene } from "../../src/data/synth/generate-scene.js";
import { NucleusShape } from "../../src/data/synth/nucleus.js";
import type { WhiteCell } from "../../src/data/synth/scene.js";

const { values: args } = parseArgs({
  options: {
    images: { type: "string", default: "160" },
    imgsz: { type: "string", default: "192" },
    magnification: { type: "string", default: "2" },
    seed: { type: "string", default: "0" },
  },
});

/** Attribute columns of `trueAttributes` (a0..a6). */
const CHROMATIN = 1;
const NUCLEOLUS = 3;
const VACUOLES = 6;

interface CueCounts {
  cells: number;
  vacuolePositive: number;
  vacuoleDefocused: number;
  vacuoleOverNucleus: number;
  nucleolusNegative: number;
  nucleolusNegativeHoleInNucleus: number;
  nucleolusPositive: number;
  nucleolusDefocused: number;
  nucleolusCoarse: number;
  nucleolusUnderGranules: number;
}

function countCell(c: WhiteCell, defocused: boolean, n: CueCounts): void {
  if (c.cls === 0 || !c.nucleus) return; // artefacts carry no attributes
  n.cells++;
  const nucleus = new NucleusShape(c.nucleus);
  const overNucleus = c.vacuoles.some((v) => nucleus.coverage(v.x, v.y) > 0.5);
  const a = c.trueAttributes;
  if (a[VACUOLES] === 1) {
    n.vacuolePositive++;
    if (defocused) n.vacuoleDefocused++;
    if (overNucleus) n.vacuoleOverNucleus++;
  }
  if (a[NUCLEOLUS] === 0) {
    n.nucleolusNegative++;
    if (overNucleus) n.nucleolusNegativeHoleInNucleus++;
  }
  if (a[NUCLEOLUS] === 1) {
    n.nucleolusPositive++;
    if (defocused) n.nucleolusDefocused++;
    if (a[CHROMATIN] === 1) n.nucleolusCoarse++;
    if (c.granulesOverNucleus && c.granules.length > 0) n.nucleolusUnderGranules++;
  }
}

const counts: CueCounts = {
  cells: 0,
  vacuolePositive: 0,
  vacuoleDefocused: 0,
  vacuoleOverNucleus: 0,
  nucleolusNegative: 0,
  nucleolusNegativeHoleInNucleus: 0,
  nucleolusPositive: 0,
  nucleolusDefocused: 0,
  nucleolusCoarse: 0,
  nucleolusUnderGranules: 0,
};
for (let i = 0; i < Number(args.images); i++) {
  const scene = generateScene(Number(args.seed), i, Number(args.imgsz), Number(args.magnification));
  for (const cell of scene.whiteCells) countCell(cell, scene.stain.blurPasses > 0, counts);
}
const pct = (k: number, of: number) => `${k} of ${of} (${((100 * k) / Math.max(of, 1)).toFixed(0)} %)`;
const c = counts;
process.stdout.write(
  [
    `white cells: ${c.cells} in ${args.images} films at ${args.imgsz} px, magnification ${args.magnification}, seed ${args.seed}`,
    `Vacuoles Prominent: in a defocused field ${pct(c.vacuoleDefocused, c.vacuolePositive)}; a vacuole over the nucleus ${pct(c.vacuoleOverNucleus, c.vacuolePositive)}`,
    `Nucleolus Inconspicuous with a clear hole in the nucleus (a vacuole): ${pct(c.nucleolusNegativeHoleInNucleus, c.nucleolusNegative)}`,
    `Nucleolus Prominent: defocused ${pct(c.nucleolusDefocused, c.nucleolusPositive)}; coarse chromatin ${pct(c.nucleolusCoarse, c.nucleolusPositive)}; granules over the nucleus ${pct(c.nucleolusUnderGranules, c.nucleolusPositive)}`,
    "",
  ].join("\n"),
);
