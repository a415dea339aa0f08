import { checkOptions, noGrad, Tensor, type OptionKind } from '@kiln/tensor';

/** Per-group hyperparameters; every optimizer has `lr`, the rest depend on the optimizer. */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [option: string]: unknown;
}

export type ParamsArg = readonly Tensor[] | readonly ({ params: readonly Tensor[] } & Record<string, unknown>)[];

export interface OptimizerStateDict {
  /** Per-parameter state, keyed by the parameter's index across all groups. */
  state: Record<number, Record<string, number[] | number>>;
  /** Group hyperparameters, with `params` as indices. */
  paramGroups: ({ params: number[] } & Record<string, unknown>)[];
}

type State = Record<string, Float64Array | number>;

/**
 * Base of the optimizers. Parameters come as a list or as groups with their own options
 * (`[{ params: a, lr: 0.1 }, { params: b }]`); the constructor's defaults fill the rest.
 * Updates run under noGrad directly on the parameter buffers; state is kept in float64.
 */
export abstract class Optimizer {
  readonly paramGroups: ParamGroup[] = [];
  /** Per-parameter state (momentum buffers, moment estimates, step counts). */
  readonly state = new Map<Tensor, State>();

  /**
   * `spec` (the optimizer's option kinds) also validates each parameter group's own options:
   * a group may hold `params`, `initialLr` (set by LRScheduler) and any of the optimizer's options.
   */
  protected constructor(params: ParamsArg, readonly defaults: Record<string, unknown> & { lr: number }, spec?: Readonly<Record<string, OptionKind>>) {
    const name = this.constructor.name;
    if (!(typeof defaults.lr === 'number' && defaults.lr >= 0)) throw new Error(`Kiln: ${name}: lr must be a number >= 0, got ${String(defaults.lr)}`);
    const list = [...params];
    if (!list.length) throw new Error(`Kiln: ${name}: got an empty parameter list`);
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] }] : (list as { params: readonly Tensor[] }[]);
    const seen = new Set<Tensor>();
    for (const [gi, g] of groups.entries()) {
      if (!g || !Array.isArray(g.params)) throw new Error(`Kiln: ${name}: each parameter group needs a params array`);
      if (spec) checkOptions(`${name}: parameter group ${gi}`, g, { params: () => null, initialLr: 'number', ...spec });
      for (const p of g.params) {
        if (!(p instanceof Tensor)) throw new Error(`Kiln: ${name}: parameters must be Tensors`);
        if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new Error(`Kiln: ${name}: can only optimize floating tensors, got ${p.dtype}${p.name ? ` (${p.name})` : ''}`);
        if (seen.has(p)) throw new Error(`Kiln: ${name}: a parameter appears in more than one group`);
        seen.add(p);
      }
      this.paramGroups.push({ ...defaults, ...g, params: [...g.params] } as ParamGroup);
    }
  }

  /** Clears the gradients: to null (default, like PyTorch's set_to_none) or to zeros. */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone || !p.grad) p.grad = null;
        else noGrad(() => p.grad!.zero_());
      }
    }
  }

  /** One update of every parameter that has a gradient and still requires one (frozen ones are skipped). */
  step(): void {
    noGrad(() => {
      for (const g of this.paramGroups) {
        for (const p of g.params) {
          if (!p.grad || !p.requiresGrad) continue; // frozen parameters keep their values even with a stale gradient
          let st = this.state.get(p);
          if (!st) { st = {}; this.state.set(p, st); }
          const w = p.dataSync();
          const grad = p.grad.dataSync();
          if (grad.length !== w.length) throw new Error(`Kiln: ${this.constructor.name}.step: gradient of ${grad.length} elements for a parameter of ${w.length}`);
          this.update(w as Float32Array | Float64Array, grad as Float32Array | Float64Array, st, g);
          p.markModified(); // graphs built from the old values must not backprop
        }
      }
    });
  }

  /** Updates `w` in place from gradient `grad`; `state` persists between steps. */
  protected abstract update(w: Float32Array | Float64Array, grad: Float32Array | Float64Array, state: State, group: ParamGroup): void;

  /** Optimizer state for checkpoints (plain numbers, JSON-serialisable). */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...rest } = g;
      return { ...rest, params: params.map((p) => { const i = index.size; index.set(p, i); return i; }) };
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = Object.fromEntries(Object.entries(st).map(([k, v]) => [k, typeof v === 'number' ? v : Array.from(v)]));
    }
    return { state, paramGroups };
  }

  /** Restores state saved by stateDict() into an optimizer over the same parameters in the same groups. */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (!sd || !Array.isArray(sd.paramGroups)) throw new Error(`Kiln: ${name}.loadStateDict: missing paramGroups`);
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`Kiln: ${name}.loadStateDict: checkpoint has ${sd.paramGroups.length} parameter groups, optimizer has ${this.paramGroups.length}`);
    }
    const all: Tensor[] = [];
    sd.paramGroups.forEach((sg, gi) => {
      const g = this.paramGroups[gi]!;
      if (sg.params.length !== g.params.length) {
        throw new Error(`Kiln: ${name}.loadStateDict: group ${gi} has ${sg.params.length} parameters in the checkpoint, ${g.params.length} here`);
      }
      all.push(...g.params);
      const { params: _ignored, ...rest } = sg;
      Object.assign(g, rest);
    });
    this.state.clear();
    for (const [k, st] of Object.entries(sd.state ?? {})) {
      const p = all[Number(k)];
      if (!p) throw new Error(`Kiln: ${name}.loadStateDict: state for parameter ${k}, which does not exist`);
      const restored: State = {};
      for (const [key, v] of Object.entries(st)) {
        if (typeof v === 'number') restored[key] = v;
        else {
          if (v.length !== p.numel()) throw new Error(`Kiln: ${name}.loadStateDict: state '${key}' of parameter ${k} has ${v.length} values, parameter has ${p.numel()}`);
          restored[key] = Float64Array.from(v);
        }
      }
      this.state.set(p, restored);
    }
  }
}

/** Gets (creating zeros) a float64 state buffer. */
export function buffer(state: State, key: string, n: number): Float64Array {
  let b = state[key];
  if (!(b instanceof Float64Array)) { b = new Float64Array(n); state[key] = b; }
  return b;
}
