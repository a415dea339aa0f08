/**
 * ctcLoss and CTCLoss: connectionist temporal classification with the arguments and semantics of
 * PyTorch's `torch.nn.functional.ctc_loss` / `nn.CTCLoss`, on @kiln/tensor's `ctcNll` op (log-space
 * alpha/beta recursions with their own backward).
 *
 * - `logProbs` `[T, N, C]` log-probabilities (time-major; usually `logits.logSoftmax(2)`), or
 *   `[T, C]` for one unbatched sequence.
 * - `targets` int32: padded `[N, S]` (sample n's labels in row n, the first targetLengths[n] of
 *   them count) or 1-D, all targets concatenated (exactly Σ targetLengths labels). Labels are
 *   1..C−1 with the default blank 0; the blank may never be a target.
 * - `inputLengths`, `targetLengths`: `[N]` integers (an int32 Tensor or an array; a number or a
 *   0-d tensor for unbatched input).
 * - reduction 'mean' (default): each loss divided by its target length (at least 1), then the
 *   batch mean; 'sum'; 'none' (`[N]`, or a 0-d tensor unbatched).
 * - zeroInfinity: losses with no alignment at all (Infinity) and their gradients become 0.
 *
 * One deliberate difference: a target longer than its input (no alignment can emit L labels in
 * fewer than L frames) is an error unless zeroInfinity is set — PyTorch silently returns
 * Infinity, which ruins the first training step; set zeroInfinity to skip such samples as
 * PyTorch does. Targets that cannot fit only because repeats need blanks between them ("11" in 2
 * frames) give Infinity, as in PyTorch.
 *
 * Gradients with respect to `logProbs` are the exact derivatives (see @kiln/tensor's ctcNll);
 * PyTorch's add exp(logProbs), which a preceding logSoftmax cancels — the gradient with respect
 * to the logits is the same.
 */
import { Module } from '@kiln/nn';
import { checkOptions, ctcNll, isFloatingDType, Tensor } from '@kiln/tensor';
import { readLengths, shapeOf, type CTCLengths } from './lengths.js';

export type CTCReduction = 'mean' | 'sum' | 'none';

export interface CTCLossOptions {
  /** The blank class (default 0). */
  blank?: number;
  /** Default 'mean' (per-target-length, then over the batch). */
  reduction?: CTCReduction;
  /** Infinite losses and their gradients become 0 (default false). */
  zeroInfinity?: boolean;
}

const OPTION_SPEC = { blank: 'nonnegint', reduction: ['mean', 'sum', 'none'], zeroInfinity: 'boolean' } as const;
const FN = 'ctcLoss';

/** The CTC loss of `logProbs` against `targets` (see the module comment for the forms and semantics). */
export function ctcLoss(logProbs: Tensor, targets: Tensor, inputLengths: CTCLengths, targetLengths: CTCLengths, options: CTCLossOptions = {}): Tensor {
  checkOptions(FN, options, OPTION_SPEC);
  if (!(logProbs instanceof Tensor)) throw new Error(`Kiln: ${FN}: logProbs must be a Tensor, got ${logProbs === null ? 'null' : typeof logProbs}`);
  if (logProbs.ndim !== 2 && logProbs.ndim !== 3) {
    throw new Error(`Kiln: ${FN}: logProbs must be [T, N, C] (or [T, C] unbatched), got ${shapeOf(logProbs)}`);
  }
  if (!isFloatingDType(logProbs.dtype)) throw new Error(`Kiln: ${FN}: logProbs must be float32 or float64, got ${logProbs.dtype}`);
  if (!(targets instanceof Tensor)) throw new Error(`Kiln: ${FN}: targets must be an int32 Tensor, got ${targets === null ? 'null' : Array.isArray(targets) ? 'an array' : typeof targets}`);
  if (targets.dtype !== 'int32') throw new Error(`Kiln: ${FN}: targets must be an int32 Tensor of labels, got ${targets.dtype} ${shapeOf(targets)}`);
  const unbatched = logProbs.ndim === 2;
  const lp3 = unbatched ? logProbs.unsqueeze(1) : logProbs;
  const [T, N, C] = lp3.shape as [number, number, number];
  const blank = options.blank ?? 0;
  if (blank >= C) throw new Error(`Kiln: ${FN}: blank = ${blank} is not a class of logProbs ${shapeOf(logProbs)} (C = ${C})`);
  const zeroInfinity = options.zeroInfinity ?? false;
  const il = readLengths(FN, 'inputLengths', inputLengths, N, unbatched);
  const tl = readLengths(FN, 'targetLengths', targetLengths, N, unbatched);

  const td = targets.dataSync();
  const flat: number[] = [];
  const where: string[] = []; // each flat label's position in the user's targets, for errors
  if (targets.ndim === 2 && !unbatched) {
    const [rows, S] = targets.shape as [number, number];
    if (rows !== N) throw new Error(`Kiln: ${FN}: padded targets ${shapeOf(targets)} must have ${N} rows (the batch size of logProbs ${shapeOf(logProbs)})`);
    tl.forEach((L, n) => {
      if (L > S) throw new Error(`Kiln: ${FN}: targetLengths[${n}] = ${L} exceeds the ${S} columns of the padded targets ${shapeOf(targets)}`);
      for (let j = 0; j < L; j++) { flat.push(td[n * S + j]!); where.push(`targets[${n}][${j}]`); }
    });
  } else if (targets.ndim === 1) {
    const total = tl.reduce((a, b) => a + b, 0);
    if (targets.numel() !== total) {
      throw new Error(`Kiln: ${FN}: concatenated (1-d) targets must hold exactly sum(targetLengths) = ${total} labels, got ${targets.numel()}` +
        (unbatched ? '' : ` (pad them to [N, S] to pass extra entries)`));
    }
    for (let i = 0; i < total; i++) { flat.push(td[i]!); where.push(`targets[${i}]`); }
  } else {
    throw new Error(`Kiln: ${FN}: targets must be ${unbatched ? '1-d [S] for unbatched logProbs' : 'padded [N, S] or concatenated 1-d'}, got ${shapeOf(targets)} (logProbs ${shapeOf(logProbs)})`);
  }
  flat.forEach((c, i) => {
    if (c === blank) throw new Error(`Kiln: ${FN}: ${where[i]} = ${c} is the blank (blank = ${blank}); targets must hold labels only`);
    if (c < 0 || c >= C) throw new Error(`Kiln: ${FN}: ${where[i]} = ${c} is not a class of logProbs ${shapeOf(logProbs)} (0..${C - 1})`);
  });
  il.forEach((len, n) => {
    if (len > T) throw new Error(`Kiln: ${FN}: inputLengths[${n}] = ${len} exceeds T = ${T} (logProbs ${shapeOf(logProbs)})`);
    if (tl[n]! > len && !zeroInfinity) {
      throw new Error(`Kiln: ${FN}: targetLengths[${n}] = ${tl[n]} is longer than inputLengths[${n}] = ${len}: no alignment emits ${tl[n]} labels in ${len} frames ` +
        '(shorten the target, downsample the input less, or pass zeroInfinity: true to let such samples contribute 0)');
    }
  });

  const nll = ctcNll({ logProbs: lp3, targets: flat, targetLengths: tl, inputLengths: il, blank, zeroInfinity });
  switch (options.reduction ?? 'mean') {
    case 'none': return unbatched ? nll.reshape([]) : nll;
    case 'sum': return nll.sum();
    default: {
      const denom = new Tensor(Float64Array.from(tl, (L) => Math.max(L, 1)), [N], 'float64').to(nll.dtype);
      return nll.div(denom).mean();
    }
  }
}

/** `nn.CTCLoss`: `new CTCLoss({ blank, reduction, zeroInfinity }).forward(logProbs, targets, inputLengths, targetLengths)`. */
export class CTCLoss extends Module {
  readonly blank: number;
  readonly reduction: CTCReduction;
  readonly zeroInfinity: boolean;

  constructor(options: CTCLossOptions = {}) {
    super();
    checkOptions('CTCLoss', options, OPTION_SPEC);
    this.blank = options.blank ?? 0;
    this.reduction = options.reduction ?? 'mean';
    this.zeroInfinity = options.zeroInfinity ?? false;
  }

  override forward(logProbs: Tensor, targets: Tensor, inputLengths: CTCLengths, targetLengths: CTCLengths): Tensor {
    return ctcLoss(logProbs, targets, inputLengths, targetLengths, { blank: this.blank, reduction: this.reduction, zeroInfinity: this.zeroInfinity });
  }
}
