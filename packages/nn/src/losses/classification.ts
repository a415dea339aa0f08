import { checkOptions, classNll, isTracing, Tensor, where, type OptionKind } from '@kiln/tensor';
import { reduce, sameShape, type Reduction } from './reduce.js';

export interface WeightedLossOptions {
  reduction?: Reduction;
  /** Per-element rescaling weight (broadcast to the input). */
  weight?: Tensor;
}

const TENSOR: OptionKind = (v) => (v instanceof Tensor ? null : 'a Tensor');
/** Option kinds of each classification loss (reduce() names a wrong reduction). */
export const WEIGHTED_KEYS = { reduction: 'string', weight: TENSOR } as const;
export const BCE_LOGITS_KEYS = { ...WEIGHTED_KEYS, posWeight: (v: unknown) => (v instanceof Tensor || typeof v === 'number' ? null : 'a Tensor or a number') } as const;
export const NLL_KEYS = { ...WEIGHTED_KEYS, ignoreIndex: 'int' } as const;
export const CROSS_ENTROPY_KEYS = { ...NLL_KEYS, labelSmoothing: 'number' } as const;

/**
 * Binary cross-entropy on probabilities p: −w·(y·log p + (1−y)·log(1−p)), with each log clamped
 * at −100 like PyTorch so p = 0 or 1 gives a finite loss.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: WeightedLossOptions = {}): Tensor {
  checkOptions('binaryCrossEntropy', options, WEIGHTED_KEYS);
  sameShape('binaryCrossEntropy', input, target);
  // as PyTorch: logits (or NaN) passed for probabilities would give NaN or a meaningless loss
  const p = input.dataSync();
  for (let i = 0; i < p.length; i++) {
    if (!(p[i]! >= 0 && p[i]! <= 1)) throw new Error(`Kiln: binaryCrossEntropy: input must hold probabilities in [0, 1], got ${p[i]} at flat index ${i} (for logits use binaryCrossEntropyWithLogits)`);
  }
  const y = target.to(input.dtype);
  const logP = input.log().clamp(-100);
  const log1mP = input.neg().add(1).log().clamp(-100);
  let l = y.mul(logP).add(y.neg().add(1).mul(log1mP)).neg();
  if (options.weight) l = l.mul(options.weight);
  return reduce('binaryCrossEntropy', l, options.reduction);
}

/**
 * Binary cross-entropy on logits z, computed stably as max(z, 0) − z·y + log(1 + e^−|z|).
 * `posWeight` multiplies the positive term, as in PyTorch.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: WeightedLossOptions & { posWeight?: Tensor | number } = {}): Tensor {
  checkOptions('binaryCrossEntropyWithLogits', options, BCE_LOGITS_KEYS);
  sameShape('binaryCrossEntropyWithLogits', input, target);
  const y = target.to(input.dtype);
  // log σ(z) = −softplus(−z) = −(max(−z,0) + log1p(e^−|z|)); log(1−σ(z)) = −softplus(z)
  const sp = input.abs().neg().exp().log1p();
  const logSig = input.neg().relu().add(sp).neg();
  const log1mSig = input.relu().add(sp).neg();
  const pos = options.posWeight === undefined ? y.mul(logSig) : y.mul(logSig).mul(options.posWeight);
  let l = pos.add(y.neg().add(1).mul(log1mSig)).neg();
  if (options.weight) l = l.mul(options.weight);
  return reduce('binaryCrossEntropyWithLogits', l, options.reduction);
}

export interface NllOptions {
  reduction?: Reduction;
  /** Per-class weights [C]. */
  weight?: Tensor;
  /** Targets equal to this are skipped (and not counted in the mean); default −100. */
  ignoreIndex?: number;
}

function checkClassTarget(name: string, input: Tensor, target: Tensor): { n: number; c: number } {
  if (input.ndim < 1) throw new Error(`Kiln: ${name}: input must have a class dim, got shape [${input.shape.join(',')}]`);
  const expected = input.ndim === 1 ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  if (target.ndim !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`Kiln: ${name}: class-index target must have shape [${expected.join(',')}] for input [${input.shape.join(',')}], got [${target.shape.join(',')}]`);
  }
  if (target.dtype !== 'int32') throw new Error(`Kiln: ${name}: class-index target must be int32, got ${target.dtype}`);
  const c = input.ndim === 1 ? input.shape[0]! : input.shape[1]!;
  return { n: target.numel(), c };
}

/** Moves the class dim last and flattens: [N, C, ...] → [M, C]. */
function classesLast(x: Tensor): Tensor {
  if (x.ndim === 1) return x.reshape([1, x.shape[0]!]);
  if (x.ndim === 2) return x;
  const perm = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1];
  return x.permute(perm).reshape([-1, x.shape[1]!]);
}

/**
 * Negative log-likelihood of log-probabilities [N, C, ...] at int32 class indices [N, ...]. Runs
 * as @kiln/tensor's fused `classNll` (one op, one backward node); while a tracer records (the
 * ONNX exporter), as the primitives below. As in PyTorch, `weight` gets no gradient.
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  const name = 'nllLoss';
  checkOptions(name, options, NLL_KEYS);
  const { c } = checkClassTarget(name, input, target);
  const ignore = options.ignoreIndex ?? -100;
  const flat = classesLast(input);
  const t = target.reshape([-1]);
  if (!isTracing() && (input.dtype === 'float32' || input.dtype === 'float64')) {
    const reduction = options.reduction ?? 'mean';
    if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
      throw new Error(`Kiln: ${name}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
    }
    if (options.weight && (options.weight.ndim !== 1 || options.weight.shape[0] !== c)) {
      throw new Error(`Kiln: ${name}: weight must have shape [${c}], got [${options.weight.shape.join(',')}]`);
    }
    // Checked here too, so the error names this function.
    const td = t.dataSync();
    for (let i = 0; i < td.length; i++) {
      const k = td[i]!;
      if (k !== ignore && !(k >= 0 && k < c)) throw new Error(`Kiln: ${name}: target ${k} out of range for ${c} classes`);
    }
    const l = classNll(flat, t, { weight: options.weight ?? null, ignoreIndex: ignore, reduction });
    return reduction === 'none' ? l.reshape(target.shape) : l;
  }
  const td = t.dataSync();
  const idx = new Int32Array(td.length);
  const keep = new Float64Array(td.length);
  for (let i = 0; i < td.length; i++) {
    const k = td[i]!;
    if (k === ignore) continue;
    if (!(k >= 0 && k < c)) throw new Error(`Kiln: ${name}: target ${k} out of range for ${c} classes`);
    idx[i] = k;
    keep[i] = 1;
  }
  const index = new Tensor(idx, [td.length, 1], 'int32');
  let w = new Tensor(keep, [td.length], 'float64').to(input.dtype);
  if (options.weight) {
    if (options.weight.ndim !== 1 || options.weight.shape[0] !== c) throw new Error(`Kiln: ${name}: weight must have shape [${c}], got [${options.weight.shape.join(',')}]`);
    w = w.mul(options.weight.indexSelect(0, new Tensor(idx, [td.length], 'int32')));
  }
  const picked = flat.gather(1, index).reshape([td.length]);
  const l = picked.mul(w).neg();
  const reduction = options.reduction ?? 'mean';
  if (reduction === 'mean') return l.sum().div(w.sum());
  if (reduction === 'none') return l.reshape(target.shape);
  return reduce(name, l, reduction);
}

export interface CrossEntropyOptions extends NllOptions {
  /** Mixes the target with the uniform distribution: (1−ε)·target + ε/C. */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy on logits [N, C, ...]. Target: int32 class indices [N, ...] or class
 * probabilities (one-hot / soft, same shape as the input).
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const name = 'crossEntropy';
  checkOptions(name, options, CROSS_ENTROPY_KEYS);
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`Kiln: ${name}: labelSmoothing must be in [0, 1], got ${eps}`);
  const classDim = input.ndim === 1 ? 0 : 1;
  const logp = input.logSoftmax(classDim);
  const reduction = options.reduction ?? 'mean';
  if (target.dtype === 'int32') {
    const nll = nllLoss(logp, target, { weight: options.weight, ignoreIndex: options.ignoreIndex, reduction });
    if (eps === 0) return nll;
    const { c } = checkClassTarget(name, input, target);
    // smoothing term: −Σ_c w_c·log p_c / C over non-ignored rows
    const flat = classesLast(logp);
    const wc = options.weight ? flat.mul(options.weight) : flat;
    const ignore = options.ignoreIndex ?? -100;
    const td = target.reshape([-1]).dataSync();
    const keep = new Float64Array(td.length).map((_, i) => (td[i] === ignore ? 0 : 1));
    const keepT = new Tensor(keep, [td.length], 'float64').to(input.dtype);
    const smooth = wc.sum(1).neg().mul(keepT);
    let sm: Tensor;
    if (reduction === 'mean') {
      let denom: Tensor;
      if (options.weight) {
        const idx = new Int32Array(td.length).map((_, i) => (td[i] === ignore ? 0 : td[i]!));
        denom = options.weight.indexSelect(0, new Tensor(idx, [td.length], 'int32')).mul(keepT).sum();
      } else denom = keepT.sum();
      sm = smooth.sum().div(denom);
    } else if (reduction === 'sum') sm = smooth.sum();
    else sm = smooth.reshape(target.shape);
    return nll.mul(1 - eps).add(sm.mul(eps / c));
  }
  sameShape(name, input, target);
  const c = input.shape[classDim]!;
  let y = target.to(input.dtype);
  if (eps > 0) y = y.mul(1 - eps).add(eps / c);
  let prod = logp.mul(y);
  if (options.weight) {
    const bshape = input.shape.map((d, i) => (i === classDim ? d : 1));
    prod = prod.mul(options.weight.reshape(bshape));
  }
  const l = prod.sum(classDim).neg();
  return reduce(name, l, reduction);
}
