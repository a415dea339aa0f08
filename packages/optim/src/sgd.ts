import { checkOptions, type OptionKind } from '@kiln/tensor';
import { buffer, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  maximize?: boolean;
}

const SPEC: Record<string, OptionKind> = {
  lr: 'number', momentum: 'number', dampening: 'number', nesterov: 'boolean', weightDecay: 'number', maximize: 'boolean',
};

/**
 * Stochastic gradient descent with PyTorch's exact update:
 *   g ← ∇ + weightDecay·w
 *   b ← g on the first step, then b ← momentum·b + (1 − dampening)·g
 *   g ← g + momentum·b (nesterov) or g ← b
 *   w ← w − lr·g
 * The course's momentum v = βv + (1−β)dW is `momentum = dampening = β`, with one difference:
 * PyTorch starts from b = g rather than from v = 0 (so the course's first step is (1−β) smaller,
 * which bias correction would undo).
 */
export class SGD extends Optimizer {
  constructor(params: ParamsArg, options: SGDOptions) {
    checkOptions('SGD', options, SPEC);
    const o = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, ...options };
    if (o.momentum < 0) throw new Error(`Kiln: SGD: momentum must be >= 0, got ${o.momentum}`);
    if (o.weightDecay < 0) throw new Error(`Kiln: SGD: weightDecay must be >= 0, got ${o.weightDecay}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new Error('Kiln: SGD: nesterov needs momentum > 0 and dampening = 0');
    super(params, o, SPEC);
  }

  protected override update(w: Float32Array | Float64Array, grad: Float32Array | Float64Array, state: Record<string, Float64Array | number>, group: ParamGroup): void {
    const lr = group.lr;
    const momentum = group.momentum as number;
    const dampening = group.dampening as number;
    const nesterov = group.nesterov as boolean;
    const wd = group.weightDecay as number;
    const sign = group.maximize ? -1 : 1;
    if (momentum === 0 && wd === 0) {
      // Plain SGD, the common case: one multiply-add per weight.
      const step = sign * lr;
      const n = w.length;
      let i = 0;
      // Unrolled: V8 does not vectorise, and four independent updates per iteration run ~1.5× faster.
      for (; i + 4 <= n; i += 4) {
        w[i] = w[i]! - step * grad[i]!;
        w[i + 1] = w[i + 1]! - step * grad[i + 1]!;
        w[i + 2] = w[i + 2]! - step * grad[i + 2]!;
        w[i + 3] = w[i + 3]! - step * grad[i + 3]!;
      }
      for (; i < n; i++) w[i] = w[i]! - step * grad[i]!;
      return;
    }
    const first = !(state.momentumBuffer instanceof Float64Array);
    const buf = momentum !== 0 ? buffer(state, 'momentumBuffer', w.length) : null;
    for (let i = 0; i < w.length; i++) {
      let g = sign * grad[i]! + wd * w[i]!;
      if (buf) {
        buf[i] = first ? g : momentum * buf[i]! + (1 - dampening) * g;
        g = nesterov ? g + momentum * buf[i]! : buf[i]!;
      }
      w[i] = w[i]! - lr * g;
    }
  }
}
