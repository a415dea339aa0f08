import { Tensor, where } from '@kiln/tensor';
import { checkOptions } from '@kiln/tensor';
import { reduce, sameShape, type Reduction } from './reduce.js';

export interface LossOptions {
  reduction?: Reduction;
}

/** Option kinds of each regression loss (reduce() names a wrong reduction). */
export const LOSS_KEYS = { reduction: 'string' } as const;
export const HUBER_KEYS = { ...LOSS_KEYS, delta: 'number' } as const;
export const SMOOTH_L1_KEYS = { ...LOSS_KEYS, beta: 'number' } as const;
export const COSINE_EMBEDDING_KEYS = { ...LOSS_KEYS, margin: 'number' } as const;

/** Mean squared error (x − y)². */
export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  checkOptions('mseLoss', options, LOSS_KEYS);
  sameShape('mseLoss', input, target);
  return reduce('mseLoss', input.sub(target).square(), options.reduction);
}

/** Mean absolute error |x − y|. */
export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  checkOptions('l1Loss', options, LOSS_KEYS);
  sameShape('l1Loss', input, target);
  return reduce('l1Loss', input.sub(target).abs(), options.reduction);
}

/** Huber: ½d² where |d| < delta, delta·(|d| − ½delta) beyond. */
export function huberLoss(input: Tensor, target: Tensor, options: LossOptions & { delta?: number } = {}): Tensor {
  checkOptions('huberLoss', options, HUBER_KEYS);
  sameShape('huberLoss', input, target);
  const delta = options.delta ?? 1;
  if (!(delta > 0)) throw new Error(`Kiln: huberLoss: delta must be > 0, got ${delta}`);
  const d = input.sub(target);
  const a = d.abs();
  const quad = d.square().mul(0.5);
  const lin = a.sub(0.5 * delta).mul(delta);
  return reduce('huberLoss', where(a.lt(delta), quad, lin), options.reduction);
}

/** Smooth L1 = Huber / beta: ½d²/beta where |d| < beta, |d| − ½beta beyond. */
export function smoothL1Loss(input: Tensor, target: Tensor, options: LossOptions & { beta?: number } = {}): Tensor {
  checkOptions('smoothL1Loss', options, SMOOTH_L1_KEYS);
  sameShape('smoothL1Loss', input, target);
  const beta = options.beta ?? 1;
  // PyTorch raises for a negative beta; here it would silently give |d| + beta/2 everywhere.
  if (!(beta >= 0)) throw new Error(`Kiln: smoothL1Loss: beta must be >= 0, got ${beta}`);
  const d = input.sub(target);
  const a = d.abs();
  if (beta === 0) return reduce('smoothL1Loss', a, options.reduction);
  return reduce('smoothL1Loss', where(a.lt(beta), d.square().mul(0.5 / beta), a.sub(0.5 * beta)), options.reduction);
}

/**
 * Cosine embedding loss over rows of x1, x2 ([N, D]) with target ±1 ([N]):
 * 1 − cos(x1, x2) for y = 1, max(0, cos − margin) for y = −1.
 */
export function cosineEmbeddingLoss(x1: Tensor, x2: Tensor, target: Tensor, options: LossOptions & { margin?: number } = {}): Tensor {
  checkOptions('cosineEmbeddingLoss', options, COSINE_EMBEDDING_KEYS);
  sameShape('cosineEmbeddingLoss', x1, x2);
  if (x1.ndim !== 2 || target.ndim !== 1 || target.shape[0] !== x1.shape[0]) {
    throw new Error(`Kiln: cosineEmbeddingLoss: expected x1/x2 [N, D] and target [N], got [${x1.shape.join(',')}] and [${target.shape.join(',')}]`);
  }
  const margin = options.margin ?? 0;
  const eps = 1e-8;
  const dot = x1.mul(x2).sum(1);
  const n = x1.square().sum(1).add(eps).mul(x2.square().sum(1).add(eps)).sqrt();
  const cos = dot.div(n);
  const y = target.to(cos.dtype);
  const pos = cos.neg().add(1);
  const neg = cos.sub(margin).relu();
  const loss = where(y.gt(0), pos, where(y.lt(0), neg, cos.mul(0)));
  return reduce('cosineEmbeddingLoss', loss, options.reduction);
}

/**
 * L2 regularisation term λ/2·Σ‖W‖² over `params`. The course writes it as λ/(2m)·Σ‖W‖² added to
 * a mean loss over m examples: pass lambda/m for that. Its gradient λ·W is what PyTorch's
 * optimizer `weightDecay = λ` adds directly (without the loss term showing in the loss value).
 */
export function l2Penalty(params: readonly Tensor[], lambda: number): Tensor {
  if (!params.length) throw new Error('Kiln: l2Penalty: no parameters given');
  if (!(typeof lambda === 'number' && Number.isFinite(lambda) && lambda >= 0)) throw new Error(`Kiln: l2Penalty: lambda must be a finite number >= 0, got ${String(lambda)}`);
  let total: Tensor | null = null;
  for (const p of params) {
    if (!(p instanceof Tensor)) throw new Error('Kiln: l2Penalty: every parameter must be a Tensor');
    const s = p.square().sum();
    total = total ? total.add(s) : s;
  }
  return total!.mul(lambda / 2);
}
