import { checkOptions, type OptionKind } from '@kiln/tensor';
import { buffer, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

export interface AdagradOptions {
  lr?: number;
  /** Learning-rate decay per step: the step size is lr / (1 + (t − 1)·lrDecay). */
  lrDecay?: number;
  weightDecay?: number;
  /** Starting value of the sum of squared gradients. */
  initialAccumulatorValue?: number;
  eps?: number;
}

const SPEC: Record<string, OptionKind> = { lr: 'number', lrDecay: 'number', weightDecay: 'number', initialAccumulatorValue: 'number', eps: 'number' };

/**
 * Adagrad as in PyTorch (Duchi et al.): g ← g + λw; s ← s + g²;
 * w ← w − lr/(1 + (t−1)·lrDecay) · g / (√s + eps), with s starting at `initialAccumulatorValue`
 * (eps outside the square root, default 1e-10). GloVe's optimiser.
 */
export class Adagrad extends Optimizer {
  constructor(params: ParamsArg, options: AdagradOptions = {}) {
    checkOptions('Adagrad', options, SPEC);
    const o = { lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, ...options };
    for (const k of ['lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps'] as const) {
      if (!(typeof o[k] === 'number' && o[k] >= 0)) throw new Error(`Kiln: Adagrad: ${k} must be a number >= 0, got ${String(o[k])}`);
    }
    super(params, o, SPEC);
  }

  protected override update(w: Float32Array | Float64Array, grad: Float32Array | Float64Array, state: Record<string, Float64Array | number>, group: ParamGroup): void {
    const lrDecay = group.lrDecay as number, wd = group.weightDecay as number, eps = group.eps as number;
    const t = ((state.step as number | undefined) ?? 0) + 1;
    state.step = t;
    let sum = state.sum;
    if (!(sum instanceof Float64Array)) {
      sum = buffer(state, 'sum', w.length);
      sum.fill(group.initialAccumulatorValue as number);
    }
    const clr = group.lr / (1 + (t - 1) * lrDecay);
    for (let i = 0; i < w.length; i++) {
      const g = wd === 0 ? grad[i]! : grad[i]! + wd * w[i]!;
      const s = sum[i]! + g * g;
      sum[i] = s;
      w[i] = w[i]! - (clr * g) / (Math.sqrt(s) + eps);
    }
  }
}
