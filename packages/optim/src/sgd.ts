import { checkOptions, kernels, type OptionKind, type StateArena, type Tensor } from '@kiln/tensor';
import { batch, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

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

  /**
   * One fused kernel call per group (two on a step where some parameters start their momentum
   * buffer and others continue it); backends/reference/optim.ts has the loop it runs.
   */
  protected override updateGroup(group: ParamGroup, params: Tensor[]): void {
    const momentum = group.momentum as number;
    const call = {
      rule: 'sgd' as const, lr: group.lr, momentum, dampening: group.dampening as number, nesterov: group.nesterov as boolean,
      weightDecay: group.weightDecay as number, maximize: group.maximize as boolean,
    };
    const buckets = [batch(), batch()]; // continuing, first step of the buffer
    let arena: StateArena | null = null;
    for (const p of params) {
      this.stateOf(p);
      let offset = 0;
      let first = false;
      if (momentum !== 0) ({ arena, offset, fresh: first } = this.slot(group, p, 'momentumBuffer'));
      const b = buckets[first ? 1 : 0]!;
      b.params.push(p.dataSync() as Float32Array);
      b.grads.push(p.grad!.dataSync() as Float32Array);
      b.offsets.push(offset);
    }
    buckets.forEach((b, first) => {
      if (b.params.length) kernels().optimizerStep({ ...call, ...b, first: first === 1, momentumBuffer: arena });
    });
  }
}

