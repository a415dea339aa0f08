/**
 * Triplet margin loss (FaceNet; PyTorch's torch.nn.functional.triplet_margin_loss and
 * nn.TripletMarginLoss): L = max(d(a, p) − d(a, n) + margin, 0) with d the p-norm distance
 * ‖x − y + eps‖_p, optionally with the distance swap of Balntas et al. (d(a, n) replaced by
 * min(d(a, n), d(p, n))).
 */
import { checkOptions, Tensor } from '@kiln/tensor';
import { Module, type Reduction } from '@kiln/nn';

const dims = (t: Tensor) => `[${t.shape.join(',')}]`;

export interface PairwiseDistanceOptions {
  /** Norm degree (default 2), a positive finite number. */
  p?: number;
  /** Added to the difference before the norm (default 1e-6), as in PyTorch. */
  eps?: number;
  /** Keep the reduced last dim (default false). */
  keepdim?: boolean;
}

/** torch.nn.functional.pairwise_distance: ‖x1 − x2 + eps‖_p over the last dim, for x1, x2 of the same shape. */
export function pairwiseDistance(x1: Tensor, x2: Tensor, options: PairwiseDistanceOptions = {}): Tensor {
  checkOptions('pairwiseDistance', options, { p: 'finite', eps: 'finite', keepdim: 'boolean' });
  for (const [name, t] of [['x1', x1], ['x2', x2]] as const) {
    if (!(t instanceof Tensor) || t.ndim < 1) throw new Error(`Kiln: pairwiseDistance: ${name} must be a tensor with at least 1 dim, got ${t instanceof Tensor ? dims(t) : String(t)}`);
  }
  if (x1.ndim !== x2.ndim || x1.shape.some((d, i) => d !== x2.shape[i])) {
    throw new Error(`Kiln: pairwiseDistance: x1 ${dims(x1)} and x2 ${dims(x2)} must have the same shape`);
  }
  return pNorm('pairwiseDistance', x1.sub(x2).add(options.eps ?? 1e-6), options.p ?? 2, options.keepdim ?? false);
}

/** ‖x‖_p over the last dim. */
function pNorm(fn: string, x: Tensor, p: number, keepdim: boolean): Tensor {
  if (!(p > 0)) throw new Error(`Kiln: ${fn}: p must be a positive number, got ${p}`);
  const last = x.ndim - 1;
  if (p === 2) return x.square().sum(last, keepdim).sqrt();
  if (p === 1) return x.abs().sum(last, keepdim);
  return x.abs().pow(p).sum(last, keepdim).pow(1 / p);
}

export interface TripletMarginLossOptions {
  /** Default 1. */
  margin?: number;
  /** Norm degree of the distance (default 2). */
  p?: number;
  /** Default 1e-6 (added to differences, as in PyTorch). */
  eps?: number;
  /** Use min(d(a, n), d(p, n)) as the negative distance (default false). */
  swap?: boolean;
  /** 'mean' (default), 'sum' or 'none' (per-triplet [N]). */
  reduction?: Reduction;
}

const SPEC = { margin: 'finite', p: 'finite', eps: 'finite', swap: 'boolean', reduction: ['mean', 'sum', 'none'] } as const;

/**
 * Triplet margin loss on anchor, positive and negative embeddings of the same shape, [N, D] or
 * [D] (one triplet). Mismatched shapes are an error (PyTorch would try to broadcast).
 */
export function tripletMarginLoss(anchor: Tensor, positive: Tensor, negative: Tensor, options: TripletMarginLossOptions = {}): Tensor {
  const fn = 'tripletMarginLoss';
  checkOptions(fn, options, SPEC);
  const named = [['anchor', anchor], ['positive', positive], ['negative', negative]] as const;
  for (const [name, t] of named) {
    if (!(t instanceof Tensor) || (t.ndim !== 1 && t.ndim !== 2)) {
      throw new Error(`Kiln: ${fn}: ${name} must be embeddings [N, D] or [D], got ${t instanceof Tensor ? dims(t) : String(t)}`);
    }
  }
  if (named.some(([, t]) => t.ndim !== anchor.ndim || t.shape.some((d, i) => d !== anchor.shape[i]))) {
    throw new Error(`Kiln: ${fn}: anchor ${dims(anchor)}, positive ${dims(positive)} and negative ${dims(negative)} must have the same shape (batch size and embedding size)`);
  }
  const p = options.p ?? 2, eps = options.eps ?? 1e-6, margin = options.margin ?? 1;
  if (!(p > 0)) throw new Error(`Kiln: ${fn}: option 'p' must be a positive number, got ${p}`);
  const dPos = pairwiseDistance(anchor, positive, { p, eps });
  let dNeg = pairwiseDistance(anchor, negative, { p, eps });
  if (options.swap) dNeg = dNeg.minimum(pairwiseDistance(positive, negative, { p, eps }));
  const loss = dPos.sub(dNeg).add(margin).relu();
  const r = options.reduction ?? 'mean';
  return r === 'mean' ? loss.mean() : r === 'sum' ? loss.sum() : loss;
}

/** nn.TripletMarginLoss: forward(anchor, positive, negative). */
export class TripletMarginLoss extends Module {
  readonly options: TripletMarginLossOptions;
  constructor(options: TripletMarginLossOptions = {}) {
    super();
    checkOptions('TripletMarginLoss', options, SPEC);
    this.options = { ...options };
  }
  override forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    return tripletMarginLoss(anchor, positive, negative, this.options);
  }
}
