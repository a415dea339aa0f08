/**
 * CTC (connectionist temporal classification): the per-sample negative log-likelihood
 * −log p(target | x) of a batch of label sequences under frame-wise log-probabilities, summed
 * over every alignment (labels may repeat over frames, blanks between them), as one op with its
 * own backward. The recursions run in log space in the backend's `ctcLoss` kernels (the
 * reference one is backends/reference/ctc.ts).
 *
 * This is the engine of @kiln/sequence's `ctcLoss`, which adds PyTorch's argument forms
 * (padded or concatenated targets, unbatched input) and reductions.
 *
 * Gradient: the exact derivative with respect to `logProbs` taken as free inputs
 * (−Σ_{s: l'_s = c} alpha·beta / (p·y)). PyTorch's kernel returns that plus exp(logProbs)
 * (its formula assumes the input comes from logSoftmax); through a logSoftmax both give the
 * same gradient with respect to the logits. Steps past a sample's input length get 0; a
 * sample without any alignment (infinite loss) gets NaN unless `zeroInfinity`.
 */
import type { CtcArgs } from '../backend.js';
import { kernels } from '../backend.js';
import { allocate } from '../dtype.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkTensor, empty, finish } from './core.js';
import { floatDType } from './spatial.js';

export interface CtcNllArgs {
  /** `[T, N, C]` log-probabilities (time-major, as PyTorch). */
  logProbs: Tensor;
  /** The N target label sequences concatenated (sample n's labels follow sample n−1's). */
  targets: ArrayLike<number>;
  /** `[N]` labels per sample (0 allowed). */
  targetLengths: ArrayLike<number>;
  /** `[N]` frames per sample, each in 0..T. */
  inputLengths: ArrayLike<number>;
  /** The blank class (default 0). */
  blank?: number;
  /** Infinite losses (no alignment fits) become 0 with a zero gradient (default false). */
  zeroInfinity?: boolean;
}

function ints(op: string, name: string, v: ArrayLike<number>, n: number | null): Int32Array {
  if (v == null || typeof v !== 'object' || typeof v.length !== 'number') throw new Error(`Kiln: ${op}: ${name} must be an array of integers, got ${String(v)}`);
  if (n !== null && v.length !== n) throw new Error(`Kiln: ${op}: ${name} has ${v.length} entries for a batch of ${n}`);
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isInteger(x) || x < 0) throw new Error(`Kiln: ${op}: ${name}[${i}] = ${x} is not a non-negative integer`);
    out[i] = x;
  }
  return out;
}

/** `[N]` per-sample CTC negative log-likelihoods, in the dtype of `logProbs`. */
export function ctcNll(args: CtcNllArgs): Tensor {
  const op = 'ctcNll';
  checkTensor(op, 'logProbs', args.logProbs);
  const lp = args.logProbs;
  if (lp.ndim !== 3) throw new Error(`Kiln: ${op}: logProbs must be 3-d [T, N, C], got ${formatShape(lp.shape)}`);
  const dtype = floatDType(op, [lp]);
  const [T, N, C] = lp.shape as [number, number, number];
  const blank = args.blank ?? 0;
  if (!Number.isInteger(blank) || blank < 0 || blank >= C) throw new Error(`Kiln: ${op}: blank = ${blank} is not a class of logProbs ${formatShape(lp.shape)}`);
  const zeroInfinity = args.zeroInfinity ?? false;
  const targetLengths = ints(op, 'targetLengths', args.targetLengths, N);
  const inputLengths = ints(op, 'inputLengths', args.inputLengths, N);
  const targets = ints(op, 'targets', args.targets, null);
  const targetOffsets = new Int32Array(N);
  let off = 0;
  let maxTargetLength = 0;
  for (let n = 0; n < N; n++) {
    targetOffsets[n] = off;
    off += targetLengths[n]!;
    maxTargetLength = Math.max(maxTargetLength, targetLengths[n]!);
    if (inputLengths[n]! > T) throw new Error(`Kiln: ${op}: inputLengths[${n}] = ${inputLengths[n]} exceeds T = ${T} of logProbs ${formatShape(lp.shape)}`);
  }
  if (off > targets.length) throw new Error(`Kiln: ${op}: targetLengths sum to ${off} but targets has ${targets.length} labels`);
  for (let i = 0; i < off; i++) {
    const c = targets[i]!;
    if (c >= C || c === blank) throw new Error(`Kiln: ${op}: targets[${i}] = ${c} is ${c === blank ? 'the blank' : `not a class (C = ${C})`}`);
  }
  const k: CtcArgs = {
    logProbs: lp._data as Float32Array | Float64Array, time: T, batch: N, classes: C, blank, targets, targetOffsets, targetLengths, inputLengths, maxTargetLength,
    logAlpha: new Float64Array(N * T * (2 * maxTargetLength + 1)),
  };
  const nll = new Float64Array(N);
  kernels().ctcLoss(k, nll);
  const zeroed = new Uint8Array(N);
  const out = empty([N], dtype);
  for (let n = 0; n < N; n++) {
    if (zeroInfinity && nll[n] === Infinity) zeroed[n] = 1;
    out._data[n] = zeroed[n] ? 0 : nll[n]!;
  }
  return finish(out, 'ctcNll', [lp], { blank, zeroInfinity }, (g) => {
    const gd = Float64Array.from(g._data as Float32Array | Float64Array);
    for (let n = 0; n < N; n++) if (zeroed[n]) gd[n] = 0;
    const grad = allocate(dtype, T * N * C) as Float32Array | Float64Array;
    kernels().ctcLossBackward(k, nll, gd, grad);
    return [new Tensor(grad, [T, N, C], dtype)];
  });
}
