/**
 * Stochastic gradient descent with torch.optim.SGD's algorithm (momentum, dampening, Nesterov, weight decay) and
 * parameter groups whose hyperparameters may change every step (warmup). The update is one native call per group
 * under a no-grad guard.
 */
import { native } from "../native.js";
import { type Parameter, sameShape } from "../nn/module.js";
import { Tensor } from "../tensor.js";

export interface SgdHyper {
  lr: number;
  /** @default 0 */
  momentum?: number;
  /** @default 0 */
  dampening?: number;
  /** @default 0 */
  weightDecay?: number;
  /** @default false */
  nesterov?: boolean;
}

/** One parameter group; its numbers may be changed between steps. Extra fields (e.g. initialLr) are kept. */
export interface ParamGroup {
  params: Parameter[];
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  [extra: string]: unknown;
}

/** The optimizer's state in plain form: tensors by key plus the group settings (JSON-safe). */
export interface SgdState {
  /** "state.<paramIndex>.momentum_buffer" → tensor (owned by the caller once returned by stateDict()). */
  tensors: Map<string, Tensor>;
  /** Group settings with parameter indices (global, in group order), as torch's optimizer.state_dict(). */
  groups: Array<Omit<ParamGroup, "params"> & { params: number[] }>;
}

export class SGD {
  readonly paramGroups: ParamGroup[] = [];
  readonly #momentumBuffers = new Map<Parameter, Tensor>();
  readonly #defaults: Required<SgdHyper>;

  constructor(params: Parameter[] | Array<Partial<ParamGroup> & { params: Parameter[] }>, defaults: SgdHyper) {
    this.#defaults = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...defaults };
    if (params.length === 0) throw new Error("SGD: the optimizer got an empty parameter list");
    const groups =
      params.length > 0 && !("params" in (params[0] as object)) ? [{ params: params as Parameter[] }] : params;
    for (const g of groups as Array<Partial<ParamGroup> & { params: Parameter[] }>) this.addParamGroup(g);
  }

  addParamGroup(group: Partial<ParamGroup> & { params: Parameter[] }): void {
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of group.params) if (seen.has(p)) throw new Error("a parameter appears in more than one group");
    const g: ParamGroup = { ...this.#defaults, ...group, params: [...group.params] };
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new Error("SGD: Nesterov momentum requires momentum > 0 and dampening 0");
    }
    this.paramGroups.push(g);
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    for (const g of this.paramGroups) {
      const bufs = g.params.map((p) => this.#momentumBuffers.get(p)?.handle ?? null);
      const created = native.sgdStep(
        g.params.map((p) => p.data.handle),
        bufs,
        g.lr,
        g.momentum,
        g.dampening,
        g.weightDecay,
        g.nesterov,
      );
      created.forEach((h, i) => {
        if (h !== null) this.#momentumBuffers.set(g.params[i]!, new Tensor(h).keep());
      });
    }
  }

  /** Clears gradients (setToNone: drop them, the default; otherwise zero them in place). */
  zeroGrad(setToNone = true): void {
    native.zeroGrad(
      this.paramGroups.flatMap((g) => g.params.map((p) => p.data.handle)),
      setToNone,
    );
  }

  /** Copies of the momentum buffers and the group settings, for a checkpoint. The caller disposes the tensors. */
  stateDict(): SgdState {
    const tensors = new Map<string, Tensor>();
    const groups: SgdState["groups"] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const { params, ...settings } = g;
      groups.push({ ...settings, params: params.map((_, i) => index + i) });
      params.forEach((p, i) => {
        const buf = this.#momentumBuffers.get(p);
        if (buf) tensors.set(`state.${index + i}.momentum_buffer`, buf.clone().keep());
      });
      index += params.length;
    }
    return { tensors, groups };
  }

  /** Restores a stateDict() into an optimizer built over the same parameters (same group sizes). */
  loadStateDict(state: SgdState): void {
    if (state.groups.length !== this.paramGroups.length) {
      throw new Error(
        `optimizer state has ${state.groups.length} parameter groups, this optimizer ${this.paramGroups.length}`,
      );
    }
    let index = 0;
    state.groups.forEach((saved, gi) => {
      const g = this.paramGroups[gi]!;
      if (saved.params.length !== g.params.length) {
        throw new Error(
          `optimizer group ${gi} has ${saved.params.length} parameters in the state, ${g.params.length} here`,
        );
      }
      const { params: _ignored, ...settings } = saved;
      Object.assign(g, settings);
      g.params.forEach((p, i) => {
        const t = state.tensors.get(`state.${index + i}.momentum_buffer`);
        this.#momentumBuffers.get(p)?.dispose();
        this.#momentumBuffers.delete(p);
        if (t) {
          if (!sameShape(t.shape, p.data.shape))
            throw new Error(`momentum buffer ${index + i} has shape [${t.shape}], parameter [${p.data.shape}]`);
          this.#momentumBuffers.set(p, t.to(p.data.device).keep());
        }
      });
      index += g.params.length;
    });
  }

  /** Frees the momentum buffers. */
  dispose(): void {
    for (const t of this.#momentumBuffers.values()) t.dispose();
    this.#momentumBuffers.clear();
  }
}
