/**
 * The attribute code of `sladet detect`'s labels and its legend: `M·ORI·SSA` = Cell Size (S/M/L), then the nucleus
 * (chromatin, shape, nucleolus), then the cytoplasm (amount, basophilia, vacuoles), one letter per attribute: the
 * initial of the predicted value's name (each attribute's values have distinct initials). A letter is marked uncertain
 * (drawn faded) when the head gave that value less than {@link UNCERTAIN_BELOW} probability. {@link legendText} spells
 * it out (written as legend.txt in every run folder).
 */
import { type AttributeSpec, classColour, LLD_ATTRIBUTES } from "../data/schema.js";

/** A value predicted with a probability below this is drawn faded. */
export const UNCERTAIN_BELOW = 0.7;
/** Attribute indices (LLD_ATTRIBUTES order) of the code's groups: size · nucleus · cytoplasm. */
export const ATTRIBUTE_GROUPS: readonly (readonly number[])[] = [[0], [1, 2, 3], [4, 5, 6]];
/** Separator between the groups of the attribute code. */
export const GROUP_SEPARATOR = "·";
/** Names of the groups in the legend. */
const GROUP_NAMES = ["size", "nucleus", "cytoplasm"] as const;

/** One value letter per attribute value: the initial of its name. Throws when two values of an attribute share one. */
export function valueLetters(spec: AttributeSpec): string[] {
  const letters = spec.values.map((v) => v[0]!.toUpperCase());
  if (new Set(letters).size !== letters.length)
    throw new Error(`attribute ${spec.name}: values ${spec.values.join("/")} share an initial`);
  return letters;
}

/** One character of an attribute code: a value letter (faded when uncertain) or a group separator. */
export interface CodePart {
  text: string;
  uncertain: boolean;
}

/**
 * The compact attribute code of a cell as parts (see the module comment).
 * @param values predicted value index per attribute (LLD_ATTRIBUTES order).
 * @param confidence probability of each predicted value (same order); omitted = all certain.
 */
export function attributeCodeParts(
  values: readonly number[],
  confidence?: readonly number[],
  schema: readonly AttributeSpec[] = LLD_ATTRIBUTES,
): CodePart[] {
  const parts: CodePart[] = [];
  ATTRIBUTE_GROUPS.forEach((group, g) => {
    if (g > 0) parts.push({ text: GROUP_SEPARATOR, uncertain: false });
    for (const i of group) {
      const text = valueLetters(schema[i]!)[values[i]!] ?? "?";
      parts.push({ text, uncertain: confidence !== undefined && confidence[i]! < UNCERTAIN_BELOW });
    }
  });
  return parts;
}

/** The attribute code as text, e.g. "M·ORI·SSA" (uncertainty not shown). */
export function attributeCode(values: readonly number[], schema: readonly AttributeSpec[] = LLD_ATTRIBUTES): string {
  return attributeCodeParts(values, undefined, schema)
    .map((p) => p.text)
    .join("");
}

/** The legend of annotated images (legend.txt, and the README's Detect section): labels, attribute code, box colours. */
export function legendText(names: readonly string[], withAttributes = true): string {
  const lines = ["Annotated images of sladet detect", "", "Box label:  <class> <confidence>"];
  if (withAttributes) {
    const example = attributeCode(LLD_ATTRIBUTES.map(() => 0));
    lines.push(
      `            <attribute code>, e.g. ${example}`,
      "",
      `Attribute code: ${GROUP_NAMES.join(` ${GROUP_SEPARATOR} `)}, one letter per attribute, the initial of the predicted value:`,
    );
    ATTRIBUTE_GROUPS.forEach((group, g) => {
      for (const i of group) {
        const spec = LLD_ATTRIBUTES[i]!;
        const letters = valueLetters(spec);
        const values = spec.values.map((v, k) => `${letters[k]} ${v}`).join(", ");
        lines.push(`  ${GROUP_NAMES[g]!.padEnd(10)} ${spec.name.padEnd(24)} ${values}`);
      }
    });
    lines.push(
      `  a faded letter: the attribute head gave that value less than ${UNCERTAIN_BELOW} probability`,
      `  e.g. ${attributeCode([1, 1, 1, 0, 1, 0, 0])} = Medium; nucleus: Coarse chromatin, Irregular shape, Inconspicuous nucleolus;`,
      "       cytoplasm: Abundant, Slight basophilia, vacuoles Absent",
    );
  }
  lines.push("", "Box colours:");
  names.forEach((n, i) => {
    lines.push(`  ${String(i).padStart(2)} ${n.padEnd(24)} ${classColour(i, names)}`);
  });
  return `${lines.join("\n")}\n`;
}
