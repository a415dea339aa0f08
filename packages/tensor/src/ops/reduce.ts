/** Reductions over dims, with `keepdim`, and their gradients. */
import { kernels, type ReduceOp } from '../backend.js';
import { floatingOf } from '../dtype.js';
import { formatShape, normalizeDim, normalizeDims, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { composite } from '../trace.js';
import { broadcastData, empty, finish, uninitialized, viewOf } from './core.js';
import { where } from './elementwise.js';
import { checkOptions } from '../options.js';

type Dims = number | readonly number[] | undefined;

function keptShape(shape: readonly number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function outShape(shape: readonly number[], axes: number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

function reduceOp(op: ReduceOp, x: Tensor, dim: Dims, keepdim: boolean): Tensor {
  const axes = normalizeDims(op, dim, x.ndim);
  if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
    throw new Error(`Kiln: ${op}: cannot reduce an empty dimension of shape ${formatShape(x.shape)}`);
  }
  // Sums of bool/int32 stay integer (bool sums count), as in PyTorch.
  const dtype = x.dtype === 'bool' && (op === 'sum' || op === 'prod') ? 'int32' : x.dtype;
  const kept = keptShape(x.shape, axes);
  // The kernel writes the kept-dims layout, which is also the layout without them.
  const y = uninitialized(outShape(x.shape, axes, keepdim), dtype);
  kernels().reduce(op, x._data, x.shape, axes, y._data);
  return finish(y, op === 'sum' ? 'sum' : op === 'prod' ? 'prod' : op === 'max' ? 'max' : 'min', [x], { dims: axes, keepdim }, (g) => {
    const gk = broadcastData(viewOf(g, kept), x.shape);
    if (op === 'sum') return [gk];
    const yk = broadcastData(viewOf(y, kept), x.shape);
    if (op === 'prod') return [gk.mul(prodGradFactor(x, axes, kept, yk))];
    // max/min: ties share the gradient evenly.
    const hit = x.eq(yk).to(g.dtype);
    const count = broadcastData(viewOf(hit.sum(axes, true), kept), x.shape);
    return [gk.mul(hit).div(count)];
  });
}

/** ∏_{j≠i} x_j for each element, exact when some x are zero. */
function prodGradFactor(x: Tensor, axes: number[], kept: number[], yk: Tensor): Tensor {
  const isZero = x.eq(0);
  const zeros = broadcastData(viewOf(isZero.sum(axes, true), kept), x.shape);
  const safe = where(isZero, 1, x);
  const prodNonZero = broadcastData(viewOf(safe.prod(axes, true), kept), x.shape);
  const noZero = yk.div(safe);
  const oneZero = where(isZero, prodNonZero, 0);
  return where(zeros.eq(0), noZero, where(zeros.eq(1), oneZero, 0));
}

/** Sum over `dim` (all dims when omitted). Bool and int32 sums are int32. */
export const sum = (x: Tensor, dim?: Dims, keepdim = false): Tensor => reduceOp('sum', x, dim, keepdim);
/** Product over `dim` (all dims when omitted). */
export const prod = (x: Tensor, dim?: Dims, keepdim = false): Tensor => reduceOp('prod', x, dim, keepdim);
/** Maximum over `dim` (all dims when omitted); tied maxima share the gradient. */
export const max = (x: Tensor, dim?: Dims, keepdim = false): Tensor => reduceOp('max', x, dim, keepdim);
/** Minimum over `dim` (all dims when omitted); tied minima share the gradient. */
export const min = (x: Tensor, dim?: Dims, keepdim = false): Tensor => reduceOp('min', x, dim, keepdim);

/** Mean over `dim` (all dims when omitted); integer inputs give float32. */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const axes = normalizeDims('mean', dim, x.ndim);
  const count = sizeOf(axes.map((a) => x.shape[a]!));
  return composite('mean', [x], { dims: axes, keepdim }, () => x.to(floatingOf(x.dtype)).sum(axes, keepdim).div(count));
}

export interface VarOptions {
  /** Subtracted from the count in the divisor: 1 (default) is Bessel's correction, 0 the population variance. */
  correction?: number;
  keepdim?: boolean;
}

/** Variance over `dim` with Bessel's correction by default (`correction: 0` for the biased one). */
export function variance(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  checkOptions('var', options, { correction: 'finite', keepdim: 'boolean' });
  const axes = normalizeDims('var', dim, x.ndim);
  const keepdim = options.keepdim ?? false;
  const correction = options.correction ?? 1;
  const n = sizeOf(axes.map((a) => x.shape[a]!));
  return composite('var', [x], { dims: axes, keepdim, correction }, () => {
    const xf = x.to(floatingOf(x.dtype));
    const centered = xf.sub(xf.mean(axes, true));
    return centered.square().sum(axes, keepdim).div(Math.max(n - correction, 0));
  });
}

/** Standard deviation: √var with the same options. */
export function std(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return variance(x, dim, options).sqrt();
}

/** log Σ exp(x) over `dim`, stable for large |x|. */
export function logsumexp(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const axes = normalizeDims('logsumexp', dim, x.ndim);
  return composite('logsumexp', [x], { dims: axes, keepdim }, () => {
    const xf = x.to(floatingOf(x.dtype));
    const m = xf.max(axes, true).detach();
    // An all -Inf slice must give -Inf, not NaN.
    const shift = where(m.isfinite(), m, 0);
    const out = xf.sub(shift).exp().sum(axes, true).log().add(shift);
    return keepdim ? out : out.squeeze(axes);
  });
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (x.numel() === 0) throw new Error(`Kiln: ${op}: cannot reduce an empty tensor of shape ${formatShape(x.shape)}`);
  const flat = dim === undefined;
  const inShape = flat ? [x.numel()] : x.shape;
  const axis = flat ? 0 : normalizeDim(op, dim, x.ndim);
  const kept = inShape.map((d, i) => (i === axis ? 1 : d));
  const shape = flat ? (keepdim ? x.shape.map(() => 1) : []) : keepdim ? kept : kept.filter((_, i) => i !== axis);
  const out = empty(shape, 'int32');
  kernels().argReduce(op, x._data, inShape, axis, out._data as Int32Array);
  return finish(out, op, [x], { dim: flat ? null : axis, keepdim });
}

/** Index of the maximum along `dim` (of the flattened tensor when omitted), as int32. */
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => argReduce('argmax', x, dim, keepdim);
/** Index of the minimum along `dim` (of the flattened tensor when omitted), as int32. */
export const argmin = (x: Tensor, dim?: number, keepdim = false): Tensor => argReduce('argmin', x, dim, keepdim);
