import { checkOptions, kernels, type OptionKind, type StateArena, type Tensor } from '@kiln/tensor';
import { batch, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

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
    if (!(o.momentum >= 0)) throw new Error(`Kiln: RMSprop: momentum must be >= 0, got ${o.momentum}`);
    if (!(o.weightDecay >= 0)) throw new Error(`Kiln: RMSprop: weightDecay must be >= 0, got ${o.weightDecay}`);
    super(params, o, SPEC);
  }

  /** One fused kernel call per group; backends/reference/optim.ts has the loop it runs. */
  protected override updateGroup(group: ParamGroup, params: Tensor[]): void {
    const momentum = group.momentum as number, centered = group.centered as boolean;
    const b = batch();
    let squareAvg: StateArena | null = null, gradAvg: StateArena | null = null, momentumBuffer: StateArena | null = null;
    for (const p of params) {
      const st = this.stateOf(p);
      st.step = ((st.step as number | undefined) ?? 0) + 1;
      const sq = this.slot(group, p, 'squareAvg');
      squareAvg = sq.arena;
      if (centered) gradAvg = this.slot(group, p, 'gradAvg').arena;
      if (momentum > 0) momentumBuffer = this.slot(group, p, 'momentumBuffer').arena;
      b.params.push(p.dataSync() as Float32Array);
      b.grads.push(p.grad!.dataSync() as Float32Array);
      b.offsets.push(sq.offset);
    }
    kernels().optimizerStep({
      rule: 'rmsprop', ...b, lr: group.lr, alpha: group.alpha as number, eps: group.eps as number,
      weightDecay: group.weightDecay as number, momentum, squareAvg: squareAvg!, gradAvg, momentumBuffer,
    });
  }
}
