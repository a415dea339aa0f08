import { checkOptions, type OptionKind } from '@kiln/tensor';
import { buffer, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

const SPEC: Record<string, OptionKind> = {
  lr: 'number', alpha: 'number', eps: 'number', weightDecay: 'number', momentum: 'number', centered: 'boolean',
};

/**
 * RMSprop as in PyTorch: s ← α·s + (1−α)·g²; with `centered`, a ← α·a + (1−α)·g and the
 * denominator is √(s − a²) + eps, else √s + eps; with momentum b ← μ·b + g/den, w ← w − lr·b;
 * otherwise w ← w − lr·g/den. (eps is outside the square root, unlike the course's √(s + ε).)
 */
export class RMSprop extends Optimizer {
  constructor(params: ParamsArg, options: RMSpropOptions = {}) {
    checkOptions('RMSprop', options, SPEC);
    const o = { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, ...options };
    if (!(o.alpha >= 0)) throw new Error(`Kiln: RMSprop: alpha must be >= 0, got ${o.alpha}`);
    if (!(o.eps >= 0)) throw new Error(`Kiln: RMSprop: eps must be >= 0, got ${o.eps}`);
    super(params, o, SPEC);
  }

  protected override update(w: Float32Array | Float64Array, grad: Float32Array | Float64Array, state: Record<string, Float64Array | number>, group: ParamGroup): void {
    const { lr } = group;
    const alpha = group.alpha as number, eps = group.eps as number, wd = group.weightDecay as number;
    const momentum = group.momentum as number, centered = group.centered as boolean;
    state.step = ((state.step as number | undefined) ?? 0) + 1;
    const sq = buffer(state, 'squareAvg', w.length);
    const ga = centered ? buffer(state, 'gradAvg', w.length) : null;
    const mb = momentum > 0 ? buffer(state, 'momentumBuffer', w.length) : null;
    for (let i = 0; i < w.length; i++) {
      const g = grad[i]! + wd * w[i]!;
      sq[i] = alpha * sq[i]! + (1 - alpha) * g * g;
      let avg: number;
      if (ga) {
        ga[i] = alpha * ga[i]! + (1 - alpha) * g;
        avg = Math.sqrt(sq[i]! - ga[i]! * ga[i]!) + eps;
      } else avg = Math.sqrt(sq[i]!) + eps;
      if (mb) {
        mb[i] = momentum * mb[i]! + g / avg;
        w[i] = w[i]! - lr * mb[i]!;
      } else w[i] = w[i]! - (lr * g) / avg;
    }
  }
}
