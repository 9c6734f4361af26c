/**
 * Where the seed's attribute head is found beside a YOLOv5 `.pt`. Engine-free, so the CLI can decide it before
 * choosing a backend (the onnx backend must not load the native addon).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

/** Where the seed's test.py reads its attribute head (relative to the working folder). */
export const SEED_ATTRIBUTE_HEAD = join("Attribute_model", "last_weights.pth");

/**
 * The seed's attribute head for a YOLOv5 .pt, as the seed's test.py finds it: `attrWeights` when given, else
 * {@link SEED_ATTRIBUTE_HEAD} when it exists; none for sladet checkpoints (they carry their head).
 */
export function seedAttributeWeights(weights: string, attrWeights: string | undefined): string | undefined {
  if (attrWeights !== undefined || !weights.endsWith(".pt") || !existsSync(SEED_ATTRIBUTE_HEAD)) return attrWeights;
  return SEED_ATTRIBUTE_HEAD;
}
