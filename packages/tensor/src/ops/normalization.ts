/**
 * Group normalisation and local response normalisation, written once from primitives (their
 * gradients come from the primitives'). Both follow PyTorch's functional definitions.
 */
import { isFloatingDType } from '../dtype.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { composite } from '../trace.js';
import { checkTensor } from './core.js';
import { narrow } from './movement.js';
import { avgPool2d } from './pool.js';

function checkFloat(op: string, x: Tensor): void {
  if (!isFloatingDType(x.dtype)) throw new Error(`Kiln: ${op}: expected a float32 or float64 input, got ${x.dtype}`);
}

function checkNumber(op: string, name: string, v: unknown, ok: (v: number) => boolean, what: string): void {
  if (typeof v !== 'number' || !ok(v)) throw new Error(`Kiln: ${op}: ${name} must be ${what}, got ${String(v)}`);
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
