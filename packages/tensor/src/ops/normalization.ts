/**
 * Layer, batch, group and local response normalisation, following PyTorch's functional
 * definitions. Layer norm runs as one fused kernel per direction (backend kernels layerNorm,
 * layerNormBackward) with its own gradient, and as primitives while a tracer that does not take
 * it whole records it. Group and response norm are written once from primitives (their gradients come from the
 * primitives'). Batch norm runs as fused per-channel passes (backend kernels channelMoments,
 * channelAffine, channelGradSums) with its own gradient, and as primitives while a tracer
 * records them (the ONNX exporter) or when running statistics need a gradient.
 */
import { noGrad } from '../autograd.js';
import { kernels } from '../backend.js';
import { isFloatingDType } from '../dtype.js';
import { checkOptions } from '../options.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { composite, isTracing } from '../trace.js';
import { checkTensor, empty, finish, uninitialized } from './core.js';
import { asDType, floatDType, type Float } from './spatial.js';
import { narrow } from './movement.js';
import { avgPool2d } from './pool.js';

function checkFloat(op: string, x: Tensor): void {
  if (!isFloatingDType(x.dtype)) throw new Error(`Kiln: ${op}: expected a float32 or float64 input, got ${x.dtype}`);
}

function checkNumber(op: string, name: string, v: unknown, ok: (v: number) => boolean, what: string): void {
  if (typeof v !== 'number' || !ok(v)) throw new Error(`Kiln: ${op}: ${name} must be ${what}, got ${String(v)}`);
}

/**
 * Layer norm (PyTorch's `F.layer_norm`): each slice over the trailing dims `normalizedShape` is
 * normalised by its own mean and biased variance, y = (x − mean)/√(var + eps), then scaled by
 * `weight` and shifted by `bias` elementwise (both optional, of shape `normalizedShape`).
 */
export function layerNorm(
  input: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5,
): Tensor {
  const op = 'layerNorm';
  checkTensor(op, 'input', input);
  checkFloat(op, input);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`Kiln: ${op}: normalizedShape must be a positive integer or a non-empty list of them, got ${JSON.stringify(normalizedShape)}`);
  }
  checkNumber(op, 'eps', eps, (e) => e >= 0 && Number.isFinite(e), 'a finite non-negative number');
  const k = shape.length;
  const tail = input.shape.slice(input.ndim - k);
  if (input.ndim < k || tail.some((d, i) => d !== shape[i])) {
    throw new Error(`Kiln: ${op}: input of shape ${formatShape(input.shape)} does not end in normalizedShape ${formatShape(shape)}`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t == null) continue;
    checkTensor(op, name, t);
    if (t.ndim !== k || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`Kiln: ${op}: ${name} must have shape normalizedShape ${formatShape(shape)}, got ${formatShape(t.shape)}`);
    }
  }
  const dtype = floatDType(op, [input, weight, bias]);
  const inputs = [input, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const attrs = { normalizedShape: [...shape], eps, weight: weight != null, bias: bias != null };
  return composite(op, inputs, attrs, () => {
    const args = { input: asDType(input, dtype), weight: weight ? asDType(weight, dtype) : null, bias: bias ? asDType(bias, dtype) : null, k, eps };
    return isTracing() ? layerNormPrimitives(args) : layerNormFused(args, attrs);
  });
}

interface LayerNormArgs {
  input: Tensor;
  weight: Tensor | null;
  bias: Tensor | null;
  /** Trailing dims normalised over. */
  k: number;
  eps: number;
}

/** The op as primitives: what a tracer that does not take layerNorm whole records. */
function layerNormPrimitives(a: LayerNormArgs): Tensor {
  const x = a.input;
  const dims = Array.from({ length: a.k }, (_, i) => x.ndim - a.k + i);
  const mean = x.mean(dims, true);
  const variance = x.var(dims, { correction: 0, keepdim: true });
  let y = x.sub(mean).div(variance.add(a.eps).sqrt());
  if (a.weight) y = y.mul(a.weight);
  if (a.bias) y = y.add(a.bias);
  return y;
}

/**
 * One pass per row for the moments and y, saving each row's mean and 1/√(var + eps) (in the
 * input's dtype, as PyTorch does) for the backward, which takes one more pass for dx and the
 * column sums of dweight and dbias.
 */
function layerNormFused(a: LayerNormArgs, attrs: Record<string, unknown>): Tensor {
  const { input: x, weight, bias, eps } = a;
  const dtype = x.dtype as 'float32' | 'float64';
  const wShape = x.shape.slice(x.ndim - a.k);
  const n = wShape.reduce((p, d) => p * d, 1);
  const rows = x.numel() / n;
  const out = uninitialized(x.shape, dtype);
  const Stats = dtype === 'float32' ? Float32Array : Float64Array;
  const mean = new Stats(rows);
  const rstd = new Stats(rows);
  const w = weight ? (weight._data as Float) : null;
  kernels().layerNorm({ x: x._data as Float, weight: w, bias: bias ? (bias._data as Float) : null, out: out._data as Float, mean, rstd, rows, n, eps });
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return finish(out, 'layerNorm', inputs, attrs, (grad) => {
    const dx = x.requiresGrad ? uninitialized(x.shape, dtype) : null;
    const dw = weight?.requiresGrad ? uninitialized(wShape, dtype) : null;
    const db = bias?.requiresGrad ? uninitialized(wShape, dtype) : null;
    kernels().layerNormBackward({
      x: x._data as Float, dy: asDType(grad, dtype)._data as Float, weight: w, mean, rstd,
      dx: dx ? (dx._data as Float) : null, dweight: dw ? (dw._data as Float) : null, dbias: db ? (db._data as Float) : null, rows, n,
    });
    return [dx, ...(weight ? [dw] : []), ...(bias ? [db] : [])];
  });
}

/**
 * Group norm over `[N, C, ...]`: the C channels split into `numGroups` groups; each (sample,
 * group) is normalised by its own mean and biased variance, then scaled by `weight[c]` and
 * shifted by `bias[c]` per channel (both optional, shape [C]).
 */
export function groupNorm(input: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const op = 'groupNorm';
  checkTensor(op, 'input', input);
  checkFloat(op, input);
  checkNumber(op, 'numGroups', numGroups, (g) => Number.isInteger(g) && g > 0, 'a positive integer');
  checkNumber(op, 'eps', eps, (e) => e >= 0, 'a non-negative number');
  if (input.ndim < 2) throw new Error(`Kiln: ${op}: expected an input of at least 2 dims [N, C, ...], got shape ${formatShape(input.shape)}`);
  const c = input.shape[1]!;
  if (c % numGroups !== 0) throw new Error(`Kiln: ${op}: channels ${c} of input ${formatShape(input.shape)} are not divisible by numGroups ${numGroups}`);
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t == null) continue;
    checkTensor(op, name, t);
    if (t.ndim !== 1 || t.shape[0] !== c) throw new Error(`Kiln: ${op}: ${name} must have shape [${c}], got ${formatShape(t.shape)}`);
  }
  const inputs = [input, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return composite(op, inputs, { numGroups, eps }, () => {
    const n = input.shape[0]!;
    const xg = input.reshape([n, numGroups, -1]);
    const mean = xg.mean(2, true);
    const variance = xg.var(2, { correction: 0, keepdim: true });
    let y = xg.sub(mean).div(variance.add(eps).sqrt()).reshape(input.shape);
    const bshape = input.shape.map((d, i) => (i === 1 ? d : 1)).slice(1);
    if (weight) y = y.mul(weight.reshape(bshape));
    if (bias) y = y.add(bias.reshape(bshape));
    return y;
  });
}

/**
 * Local response normalisation across channels (AlexNet), PyTorch's formula:
 * y[c] = x[c] / (k + alpha/size · Σ x[c']²)^beta, the sum over channels
 * c − ⌊size/2⌋ ≤ c' ≤ c + ⌊(size−1)/2⌋ that exist. Input `[N, C, ...]` with at least 3 dims.
 */
export function localResponseNorm(input: Tensor, size: number, alpha = 1e-4, beta = 0.75, k = 1): Tensor {
  const op = 'localResponseNorm';
  checkTensor(op, 'input', input);
  checkFloat(op, input);
  checkNumber(op, 'size', size, (s) => Number.isInteger(s) && s > 0, 'a positive integer');
  for (const [name, v] of [['alpha', alpha], ['beta', beta], ['k', k]] as const) checkNumber(op, name, v, Number.isFinite, 'a finite number');
  if (input.ndim < 3) throw new Error(`Kiln: ${op}: expected an input of at least 3 dims [N, C, ...], got shape ${formatShape(input.shape)}`);
  return composite(op, [input], { size, alpha, beta, k }, () => {
    const [n, c] = input.shape as [number, number];
    // Sum of squares over a channel window: an average pool of size (size, 1) over [N, 1, C, rest]
    // with ⌊size/2⌋ zero channels on both sides; for even sizes PyTorch pads one fewer at the end,
    // which is the same as dropping the last window.
    const sq = input.square().reshape([n, 1, c, -1]);
    let div = avgPool2d(sq, [size, 1], { stride: 1, padding: [Math.floor(size / 2), 0] });
    if (size % 2 === 0) div = narrow(div, 2, 0, c);
    const base = div.reshape(input.shape).mul(alpha).add(k);
    // With k > 0 and alpha ≥ 0 the base is positive, and base^beta = exp(beta·log base) there:
    // V8's Math.pow with a fractional exponent is ~10× slower than exp + log.
    const scale = k > 0 && alpha >= 0 ? base.log().mul(beta).exp() : base.pow(beta);
    return input.div(scale);
  });
}

export interface BatchNormOpOptions {
  /** Normalise by the batch's statistics and update the running ones, if given (default false: use the running ones). */
  training?: boolean;
  /** Weight of the batch in the running averages: r ← (1 − momentum)·r + momentum·batch (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalisation over dim 1 of `[N, C, ...]` (PyTorch's `F.batch_norm`):
 * y = (x − mean)/√(var + eps)·weight + bias per channel. In training the mean and biased
 * variance come from the batch, and `runningMean`/`runningVar` (when given) are updated in
 * place, the variance unbiased; otherwise the running statistics are used (and required).
 */
export function batchNorm(
  input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null,
  weight?: Tensor | null, bias?: Tensor | null, options: BatchNormOpOptions = {},
): Tensor {
  const op = 'batchNorm';
  checkTensor(op, 'input', input);
  checkOptions(op, options, { training: 'boolean', momentum: 'finite', eps: 'finite' });
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  checkNumber(op, 'eps', eps, (e) => e >= 0, 'a non-negative number');
  checkNumber(op, 'momentum', momentum, Number.isFinite, 'a finite number');
  if (input.ndim < 2) throw new Error(`Kiln: ${op}: expected an input of at least 2 dims [N, C, ...], got shape ${formatShape(input.shape)}`);
  const c = input.shape[1]!;
  for (const [name, t] of [['runningMean', runningMean], ['runningVar', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t == null) continue;
    checkTensor(op, name, t);
    if (t.ndim !== 1 || t.shape[0] !== c) throw new Error(`Kiln: ${op}: ${name} must have shape [${c}] (one per channel of input ${formatShape(input.shape)}), got ${formatShape(t.shape)}`);
  }
  if ((runningMean == null) !== (runningVar == null)) throw new Error(`Kiln: ${op}: give both runningMean and runningVar, or neither`);
  if (!training && !runningMean) throw new Error(`Kiln: ${op}: evaluation (training: false) needs runningMean and runningVar`);
  const dtype = floatDType(op, [input, weight, bias, runningMean, runningVar]);
  const count = input.numel() / c;
  if (training && count <= 1) throw new Error(`Kiln: ${op}: expected more than 1 value per channel when training, got input of shape ${formatShape(input.shape)}`);
  const inputs = [input, ...[weight, bias, runningMean, runningVar].filter((t): t is Tensor => t != null)];
  return composite(op, inputs, { training, momentum, eps }, () => {
    const statsNeedGrad = !training && (runningMean!.requiresGrad || runningVar!.requiresGrad);
    const args = { input, runningMean, runningVar, weight: weight ?? null, bias: bias ?? null, training, momentum, eps, dtype };
    return isTracing() || statsNeedGrad ? batchNormPrimitives(args) : batchNormFused(args);
  });
}

interface BatchNormArgs {
  input: Tensor;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  weight: Tensor | null;
  bias: Tensor | null;
  training: boolean;
  momentum: number;
  eps: number;
  dtype: 'float32' | 'float64';
}

/** r ← (1 − m)·r + m·batch for the mean and the unbiased variance, in place. */
function updateRunning(a: BatchNormArgs, mean: ArrayLike<number>, variance: ArrayLike<number>, count: number): void {
  const rm = a.runningMean!._data;
  const rv = a.runningVar!._data;
  const m = a.momentum;
  const unbias = count / (count - 1);
  for (let ch = 0; ch < rm.length; ch++) {
    rm[ch] = (1 - m) * rm[ch]! + m * mean[ch]!;
    rv[ch] = (1 - m) * rv[ch]! + m * variance[ch]! * unbias;
  }
  a.runningMean!.markModified();
  a.runningVar!.markModified();
}

/** The op as primitives: what a tracer records, and the path that differentiates the running statistics. */
function batchNormPrimitives(a: BatchNormArgs): Tensor {
  const x = a.input;
  const c = x.shape[1]!;
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
  const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  let mean: Tensor;
  let variance: Tensor;
  if (a.training) {
    mean = x.mean(dims, true);
    variance = x.var(dims, { correction: 0, keepdim: true });
    if (a.runningMean) {
      const bm = Array.from(mean.detach().dataSync(), Number);
      const bv = Array.from(variance.detach().dataSync(), Number);
      noGrad(() => updateRunning(a, bm, bv, x.numel() / c));
    }
  } else {
    mean = a.runningMean!.reshape(bshape);
    variance = a.runningVar!.reshape(bshape);
  }
  let y = x.sub(mean).div(variance.add(a.eps).sqrt());
  if (a.weight) y = y.mul(a.weight.reshape(bshape));
  if (a.bias) y = y.add(a.bias.reshape(bshape));
  return y;
}

/**
 * One statistics pass (training) and one multiply-add pass: y = x·scale[c] + shift[c] with
 * scale = weight/√(var + eps) and shift = bias − mean·scale. The backward takes one pass for
 * Σdy and Σdy·(x − mean) per channel, and one for dx.
 */
function batchNormFused(a: BatchNormArgs): Tensor {
  const { dtype, eps } = a;
  const input = asDType(a.input, dtype);
  const weight = a.weight ? asDType(a.weight, dtype) : null;
  const bias = a.bias ? asDType(a.bias, dtype) : null;
  const [n, c] = input.shape as [number, number];
  const shape3 = [n, c, input.numel() / Math.max(1, n * c)] as const;
  const count = n * shape3[2];
  const k = kernels();
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  if (a.training) {
    k.channelMoments(input._data as Float, shape3, mean, variance);
    if (a.runningMean) updateRunning(a, mean, variance, count);
  } else {
    mean.set(a.runningMean!._data);
    variance.set(a.runningVar!._data);
  }
  const invstd = new Float64Array(c);
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    invstd[ch] = 1 / Math.sqrt(variance[ch]! + eps);
    scale[ch] = (weight ? weight._data[ch]! : 1) * invstd[ch]!;
    shift[ch] = (bias ? bias._data[ch]! : 0) - mean[ch]! * scale[ch]!;
  }
  const out = empty(input.shape, dtype);
  k.channelAffine(input._data as Float, shape3, scale, shift, out._data as Float);
  const inputs = [input, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return finish(out, 'batchNorm', inputs, { training: a.training, eps }, (grad) => {
    const dy = asDType(grad, dtype)._data as Float;
    const sums = new Float64Array(c);
    const dots = new Float64Array(c);
    const needStats = a.training ? input.requiresGrad || weight?.requiresGrad : weight?.requiresGrad;
    if (needStats || bias?.requiresGrad) k.channelGradSums(dy, input._data as Float, shape3, mean, sums, dots);
    let dx: Tensor | null = null;
    if (input.requiresGrad) {
      dx = empty(input.shape, dtype);
      const zero = new Float64Array(c);
      if (a.training) {
        // dx = scale·(dy − Σdy/M − x̂·Σdy·x̂/M), x̂ = (x − mean)·invstd, as dy·scale + x·p + q.
        const p = new Float64Array(c);
        const q = new Float64Array(c);
        for (let ch = 0; ch < c; ch++) {
          const t = (scale[ch]! * invstd[ch]! * invstd[ch]! * dots[ch]!) / count;
          p[ch] = -t;
          q[ch] = mean[ch]! * t - (scale[ch]! * sums[ch]!) / count;
        }
        k.channelAffine(input._data as Float, shape3, p, q, dx._data as Float, dy, scale);
      } else {
        k.channelAffine(dy, shape3, scale, zero, dx._data as Float);
      }
    }
    const perChannel = (v: (ch: number) => number): Tensor => {
      const t = empty([c], dtype);
      for (let ch = 0; ch < c; ch++) t._data[ch] = v(ch);
      return t;
    };
    const dw = weight?.requiresGrad ? perChannel((ch) => dots[ch]! * invstd[ch]!) : null;
    const db = bias?.requiresGrad ? perChannel((ch) => sums[ch]!) : null;
    return [dx, ...(weight ? [dw] : []), ...(bias ? [db] : [])];
  });
}
