import { checkOptions, kernels, type OptionKind, type StateArena, type Tensor } from '@kiln/tensor';
import { batch, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

const SPEC: Record<string, OptionKind> = {
  lr: 'number',
  betas: (v) => (Array.isArray(v) && v.length === 2 && v.every((b) => typeof b === 'number') ? null : 'a pair of numbers [beta1, beta2]'),
  eps: 'number', weightDecay: 'number', amsgrad: 'boolean',
};

/**
 * Adam as in PyTorch: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², and
 * w ← w − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps). amsgrad uses the running max of the raw v,
 * divided by the current bias correction (as PyTorch's code does; its docs take the max after correction).
 * `weightDecay` adds λw to the gradient (L2); AdamW decouples it.
 */
export class Adam extends Optimizer {
  /** True in AdamW: weight decay shrinks w directly instead of entering the gradient. */
  protected decoupled = false;

  constructor(params: ParamsArg, options: AdamOptions = {}, defaultWeightDecay = 0) {
    checkOptions(new.target.name, options, SPEC);
    const o = { lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: defaultWeightDecay, amsgrad: false, ...options };
    const [b1, b2] = o.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`Kiln: ${new.target.name}: betas must be in [0, 1), got [${b1}, ${b2}]`);
    if (!(o.eps >= 0)) throw new Error(`Kiln: ${new.target.name}: eps must be >= 0, got ${o.eps}`);
    if (!(o.weightDecay >= 0)) throw new Error(`Kiln: ${new.target.name}: weightDecay must be >= 0, got ${o.weightDecay}`);
    super(params, { ...o, betas: [b1, b2] }, SPEC);
  }

  /**
   * One fused kernel call per group (one per distinct step count, where some parameters missed
   * steps); backends/reference/optim.ts has the loop it runs.
   */
  protected override updateGroup(group: ParamGroup, params: Tensor[]): void {
    const [beta1, beta2] = group.betas as [number, number];
    const amsgrad = group.amsgrad as boolean;
    const byStep = new Map<number, ReturnType<typeof batch>>();
    let expAvg: StateArena | null = null, expAvgSq: StateArena | null = null, maxExpAvgSq: StateArena | null = null;
    for (const p of params) {
      const st = this.stateOf(p);
      const t = ((st.step as number | undefined) ?? 0) + 1;
      st.step = t;
      const m = this.slot(group, p, 'expAvg');
      expAvg = m.arena;
      expAvgSq = this.slot(group, p, 'expAvgSq').arena;
      if (amsgrad) maxExpAvgSq = this.slot(group, p, 'maxExpAvgSq').arena;
      let b = byStep.get(t);
      if (!b) { b = batch(); byStep.set(t, b); }
      b.params.push(p.dataSync() as Float32Array);
      b.grads.push(p.grad!.dataSync() as Float32Array);
      b.offsets.push(m.offset);
    }
    for (const [step, b] of byStep) {
      kernels().optimizerStep({
        rule: 'adam', ...b, lr: group.lr, beta1, beta2, eps: group.eps as number, weightDecay: group.weightDecay as number,
        decoupled: this.decoupled, step, expAvg: expAvg!, expAvgSq: expAvgSq!, maxExpAvgSq,
      });
    }
  }
}

/** AdamW (Loshchilov & Hutter): w ← w·(1 − lr·weightDecay) before the Adam step; weightDecay defaults to 0.01. */
export class AdamW extends Adam {
  constructor(params: ParamsArg, options: AdamOptions = {}) {
    super(params, options, 0.01);
    this.decoupled = true;
  }
}
