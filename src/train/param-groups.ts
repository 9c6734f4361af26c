/**
 * YOLOv5's smart_optimizer parameter groups, in its optimizer order: biases (no decay; warmup gives them their own
 * learning rate), weights (with decay), normalisation-layer weights (no decay).
 */
import { BatchNorm2d, type Module, type Parameter } from "../torch/index.js";

export interface ParameterGroups {
  weights: Parameter[];
  normWeights: Parameter[];
  biases: Parameter[];
}

export function splitParameterGroups(
  model: Module,
  options: { frozen?: (name: string) => boolean } = {},
): ParameterGroups {
  const groups: ParameterGroups = { weights: [], normWeights: [], biases: [] };
  for (const [prefix, m] of model.namedModules()) {
    for (const [name, p] of m.namedParameters()) {
      if (name.includes(".")) continue; // direct parameters of m only
      const full = prefix ? `${prefix}.${name}` : name;
      if (options.frozen?.(full)) continue;
      if (name === "bias") groups.biases.push(p);
      else if (m instanceof BatchNorm2d) groups.normWeights.push(p);
      else groups.weights.push(p);
    }
  }
  return groups;
}
