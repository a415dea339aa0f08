import { checkOptions, type OptionKind } from '@kiln/tensor';
import { buffer, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

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
    super(params, { ...o, betas: [b1, b2] }, SPEC);
  }

  protected override update(w: Float32Array | Float64Array, grad: Float32Array | Float64Array, state: Record<string, Float64Array | number>, group: ParamGroup): void {
    const { lr } = group;
    const [b1, b2] = group.betas as [number, number];
    const eps = group.eps as number, wd = group.weightDecay as number, amsgrad = group.amsgrad as boolean;
    const t = ((state.step as number | undefined) ?? 0) + 1;
    state.step = t;
    const m = buffer(state, 'expAvg', w.length);
    const v = buffer(state, 'expAvgSq', w.length);
    const vmax = amsgrad ? buffer(state, 'maxExpAvgSq', w.length) : null;
    const bc1 = 1 - b1 ** t;
    const bc2sqrt = Math.sqrt(1 - b2 ** t);
    const stepSize = lr / bc1;
    if (!vmax && wd === 0) {
      // The common case, without the per-element branches on weight decay and amsgrad.
      const c1 = 1 - b1;
      const c2 = 1 - b2;
      for (let i = 0; i < w.length; i++) {
        const g = grad[i]!;
        const mi = b1 * m[i]! + c1 * g;
        const vi = b2 * v[i]! + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! - (stepSize * mi) / (Math.sqrt(vi) / bc2sqrt + eps);
      }
      return;
    }
    for (let i = 0; i < w.length; i++) {
      let g = grad[i]!;
      let wi = w[i]!;
      if (this.decoupled) wi *= 1 - lr * wd;
      else g += wd * wi;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      let vi = v[i]!;
      if (vmax) { vmax[i] = Math.max(vmax[i]!, vi); vi = vmax[i]!; }
      w[i] = wi - (stepSize * m[i]!) / (Math.sqrt(vi) / bc2sqrt + eps);
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
