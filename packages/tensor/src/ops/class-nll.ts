/**
 * The negative log-likelihood of class indices under row-wise log-probabilities, as one op with
 * its own backward: the engine of @kiln/nn's `nllLoss` and `crossEntropy`, which add PyTorch's
 * argument forms (a class dim that is not last, label smoothing, probability targets).
 *
 * Written from primitives (gather, a row-weight multiply, neg, two sums, div) it took eight ops
 * forward and as many backward nodes for one number; here the forward is one pass over the
 * picked entries and the backward writes −w·g/Σw at each row's target, zeros elsewhere. Sums run
 * in float64 and are rounded once to the input's dtype. As in PyTorch, `weight` is a constant:
 * no gradient flows to it.
 */
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkOptions } from '../options.js';
import { checkTensor, empty, finish } from './core.js';

export interface ClassNllOptions {
  /** Per-class weights [C] (a constant). */
  weight?: Tensor | null;
  /** Rows whose target equals this are skipped and not counted in the mean (default −100). */
  ignoreIndex?: number;
  /** 'mean' (default: Σ w·nll / Σ w over the kept rows), 'sum', or 'none' (one value per row, 0 where ignored). */
  reduction?: 'mean' | 'sum' | 'none';
}

/** −Σ_i w[t_i]·input[i, t_i] reduced over rows: `input` [M, C] float log-probabilities, `target` [M] int32 class indices. */
export function classNll(input: Tensor, target: Tensor, options: ClassNllOptions = {}): Tensor {
  const op = 'classNll';
  checkTensor(op, 'input', input);
  checkTensor(op, 'target', target);
  checkOptions(op, options, {
    weight: (v) => (v == null || v instanceof Tensor ? null : 'a Tensor'),
    ignoreIndex: 'int',
    reduction: ['mean', 'sum', 'none'],
  });
  if (input.dtype !== 'float32' && input.dtype !== 'float64') throw new Error(`Kiln: ${op}: input must be float32 or float64, got ${input.dtype}`);
  if (input.ndim !== 2) throw new Error(`Kiln: ${op}: input must be [rows, classes], got shape ${formatShape(input.shape)}`);
  const [m, c] = input.shape as [number, number];
  if (target.dtype !== 'int32' || target.ndim !== 1 || target.shape[0] !== m) {
    throw new Error(`Kiln: ${op}: target must be int32 of shape [${m}] for input ${formatShape(input.shape)}, got ${target.dtype} ${formatShape(target.shape)}`);
  }
  const weight = options.weight ?? null;
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== c)) {
    throw new Error(`Kiln: ${op}: weight must have shape [${c}], got ${formatShape(weight.shape)}`);
  }
  const ignore = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? 'mean';
  const t = target._data as Int32Array;
  const w = weight?.dataSync();
  // Each row's weight (0 for an ignored row) and its picked log-probability's offset.
  const rowWeight = new Float64Array(m);
  const at = new Int32Array(m);
  let weightSum = 0;
  for (let i = 0; i < m; i++) {
    const k = t[i]!;
    if (k === ignore) continue;
    if (!(k >= 0 && k < c)) throw new Error(`Kiln: ${op}: target ${k} at row ${i} out of range for ${c} classes`);
    const wi = w ? w[k]! : 1;
    rowWeight[i] = wi;
    at[i] = i * c + k;
    weightSum += wi;
  }
  const x = input._data;
  let out: Tensor;
  if (reduction === 'none') {
    out = empty([m], input.dtype);
    const o = out._data;
    for (let i = 0; i < m; i++) if (rowWeight[i] !== 0) o[i] = -rowWeight[i]! * x[at[i]!]!;
  } else {
    let s = 0;
    for (let i = 0; i < m; i++) if (rowWeight[i] !== 0) s -= rowWeight[i]! * x[at[i]!]!;
    out = empty([], input.dtype);
    out._data[0] = reduction === 'mean' ? s / weightSum : s;
  }
  return finish(out, op, [input], { ignoreIndex: ignore, reduction, weight: weight !== null }, (g) => {
    const gx = empty([m, c], g.dtype);
    const d = gx._data;
    const gd = g._data;
    const scale = reduction === 'mean' ? gd[0]! / weightSum : gd[0]!;
    for (let i = 0; i < m; i++) {
      if (rowWeight[i] === 0) continue;
      d[at[i]!] = -rowWeight[i]! * (reduction === 'none' ? gd[i]! : scale);
    }
    return [gx];
  });
}
