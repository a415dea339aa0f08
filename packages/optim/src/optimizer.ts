import { checkOptions, kernels, makeResident, noGrad, Tensor, type OptionKind, type StateArena } from '@kiln/tensor';

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
 * Where a group's state lives: one flat arena per state name (`expAvg`, `momentumBuffer` …) of
 * the group's total size, parameter p's values at `offsets.get(p)`. The arenas come from the
 * active backend (in Wasm memory on the wasm backend, where the fused kernels update them in
 * place); the optimizer owns them and a finaliser frees them when it is collected.
 */
interface Layout {
  offsets: Map<Tensor, number>;
  numel: number;
  arenas: Map<string, StateArena>;
}

/** Frees the arenas of collected optimizers (the held value is the optimizer's list of arenas). */
const arenaFinalizer = new FinalizationRegistry<StateArena[]>((arenas) => {
  for (const a of arenas) a.free();
});

/**
 * Base of the optimizers. Parameters come as a list or as groups with their own options
 * (`[{ params: a, lr: 0.1 }, { params: b }]`); the constructor's defaults fill the rest.
 * Updates run under noGrad directly on the parameter buffers; state is kept in float64.
 *
 * SGD, RMSprop and Adam/AdamW update a whole group in one `optimizerStep` kernel call with
 * their state in flat per-group arenas (see `Layout`); `state` then holds live views of the
 * arenas. Other optimizers implement `update`, one parameter at a time, with state in plain
 * Float64Arrays (`buffer`).
 */
export abstract class Optimizer {
  readonly paramGroups: ParamGroup[] = [];
  /** Per-parameter state (momentum buffers, moment estimates, step counts). */
  readonly state = new Map<Tensor, State>();
  private readonly layouts = new Map<ParamGroup, Layout>();
  /** Every arena this optimizer allocated and has not freed (what the finaliser frees). */
  private readonly arenas: StateArena[] = [];

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
        // as PyTorch: an op's result gets its gradient passed through, never stored, so it would never move
        if (!p.isLeaf) throw new Error(`Kiln: ${name}: can't optimize a non-leaf tensor (the result of an op, shape [${p.shape.join(',')}]); pass the leaf, or detach().requiresGrad_()`);
        if (seen.has(p)) throw new Error(`Kiln: ${name}: a parameter appears in more than one group`);
        seen.add(p);
      }
      this.paramGroups.push({ ...defaults, ...g, params: [...g.params] } as ParamGroup);
    }
    arenaFinalizer.register(this, this.arenas);
    for (const g of this.paramGroups) makeResident(g.params); // back to back per group, for the fused update
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
        // Frozen parameters keep their values even with a stale gradient.
        const active = g.params.filter((p) => p.grad && p.requiresGrad);
        for (const p of active) {
          const n = p.grad!.numel();
          if (n !== p.numel()) throw new Error(`Kiln: ${this.constructor.name}.step: gradient of ${n} elements for a parameter of ${p.numel()}`);
        }
        if (active.length) this.updateGroup(g, active);
        for (const p of active) p.markModified(); // graphs built from the old values must not backprop
      }
    });
  }

  /** Updates the group's parameters that have gradients; by default one `update` per parameter. */
  protected updateGroup(group: ParamGroup, params: Tensor[]): void {
    for (const p of params) {
      this.update(p.dataSync() as Float32Array | Float64Array, p.grad!.dataSync() as Float32Array | Float64Array, this.stateOf(p), group);
    }
  }

  /** Updates `w` in place from gradient `grad`; `state` persists between steps. */
  protected update(_w: Float32Array | Float64Array, _grad: Float32Array | Float64Array, _state: State, _group: ParamGroup): void {
    throw new Error(`Kiln: ${this.constructor.name}: no per-parameter update rule`);
  }

  /** The state record of `p`, created empty on first use. */
  protected stateOf(p: Tensor): State {
    let st = this.state.get(p);
    if (!st) { st = {}; this.state.set(p, st); }
    return st;
  }

  /**
   * The arena holding state `key` of the group's parameters and p's offset in it. On first use
   * for p, `state[key]` becomes a live view of the arena, holding a restored Float64Array's
   * values (loadStateDict) or zeros (`fresh`).
   */
  protected slot(group: ParamGroup, p: Tensor, key: string): { arena: StateArena; offset: number; fresh: boolean } {
    const layout = this.layoutOf(group, p);
    let arena = layout.arenas.get(key);
    if (!arena) {
      arena = kernels().stateArena(layout.numel);
      layout.arenas.set(key, arena);
      this.arenas.push(arena);
    }
    const offset = layout.offsets.get(p)!;
    const st = this.stateOf(p);
    if (Object.getOwnPropertyDescriptor(st, key)?.get) return { arena, offset, fresh: false };
    const old = st[key];
    const view = arena.view(offset, p.numel());
    if (old instanceof Float64Array) view.set(old);
    else view.fill(0);
    Object.defineProperty(st, key, {
      get: () => { const l = this.layouts.get(group)!; return l.arenas.get(key)!.view(l.offsets.get(p)!, p.numel()); },
      enumerable: true,
      configurable: true,
    });
    return { arena, offset, fresh: !(old instanceof Float64Array) };
  }

  /** The group's layout, (re)made to cover p (a parameter pushed into `group.params` later moves the state). */
  private layoutOf(group: ParamGroup, p: Tensor): Layout {
    const old = this.layouts.get(group);
    if (old?.offsets.has(p)) return old;
    const offsets = new Map<Tensor, number>();
    let numel = 0;
    for (const q of group.params) { offsets.set(q, numel); numel += q.numel(); }
    const layout: Layout = { offsets, numel, arenas: new Map() };
    for (const [key, arena] of old?.arenas ?? []) {
      const moved = kernels().stateArena(numel);
      for (const [q, at] of old!.offsets) {
        const to = offsets.get(q);
        if (to !== undefined) moved.view(to, q.numel()).set(arena.view(at, q.numel()));
      }
      layout.arenas.set(key, moved);
      this.arenas.push(moved);
      this.arenas.splice(this.arenas.indexOf(arena), 1);
      arena.free();
    }
    this.layouts.set(group, layout);
    return layout;
  }

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

/** The arrays of one `optimizerStep` call, filled parameter by parameter. */
export function batch(): { params: (Float32Array | Float64Array)[]; grads: (Float32Array | Float64Array)[]; offsets: number[] } {
  return { params: [], grads: [], offsets: [] };
}
