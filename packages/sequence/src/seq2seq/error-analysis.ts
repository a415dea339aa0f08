/**
 * Error analysis for beam search (course 5.3.1.1): for an example where the search output ŷ
 * differs from the reference y*, compare the model's objective for both,
 *
 *   score(y) = (1/T^α)·log P(y | x)    (T = length with <eos>; α = 0: plain log probability)
 *
 * - score(y*) > score(ŷ): the model prefers y* but the search did not find it → beam search is at
 *   fault (a wider beam may help);
 * - score(y*) ≤ score(ŷ): the model itself ranks the wrong output higher → the model is at fault
 *   (more data, regularisation, a different architecture).
 *
 * Over a dev set, the fraction of errors of each kind says which part deserves the work.
 */
import { checkOptions } from '@kiln/tensor';
import { normalizedScore } from './beam-search.js';

export type Fault = 'beam' | 'model' | 'none';

export interface ErrorCase {
  reference: number[];
  output: number[];
  /** log P(y* | x) (with <eos>). */
  referenceLogProb: number;
  /** log P(ŷ | x) (with <eos>). */
  outputLogProb: number;
  /** 'none' when the output equals the reference. */
  fault: Fault;
}

export interface ErrorAnalysis {
  cases: ErrorCase[];
  correct: number;
  beamErrors: number;
  modelErrors: number;
  /** Fraction of the errors due to beam search (NaN when there are no errors). */
  beamFraction: number;
  modelFraction: number;
  /** Which to work on: 'beam search', 'model', or 'none' (no errors). */
  verdict: 'beam search' | 'model' | 'none';
}

export interface ErrorAnalysisOptions {
  /** α of the objective used by the search (default 0). */
  lengthPenalty?: number;
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Which part is at fault for one example, given log P(y*|x) and log P(ŷ|x) (both with <eos>). */
export function attributeError(
  reference: readonly number[], output: readonly number[], referenceLogProb: number, outputLogProb: number, options: ErrorAnalysisOptions = {},
): Fault {
  checkOptions('attributeError', options, { lengthPenalty: 'finite' });
  if (Number.isNaN(referenceLogProb) || Number.isNaN(outputLogProb)) throw new Error(`Kiln: attributeError: log probabilities must be numbers, got ${referenceLogProb} and ${outputLogProb}`);
  if (same(reference, output)) return 'none';
  const a = options.lengthPenalty ?? 0;
  return normalizedScore(referenceLogProb, reference.length + 1, a) > normalizedScore(outputLogProb, output.length + 1, a) ? 'beam' : 'model';
}

/**
 * Attributes every error of a dev set. `logProb(tokens, i)` must return log P(tokens + <eos> | x_i)
 * under the model (e.g. `sequenceLogProb` with example i's step function).
 */
export function errorAnalysis(
  examples: readonly { reference: readonly number[]; output: readonly number[] }[],
  logProb: (tokens: readonly number[], index: number) => number,
  options: ErrorAnalysisOptions = {},
): ErrorAnalysis {
  checkOptions('errorAnalysis', options, { lengthPenalty: 'finite' });
  if (!Array.isArray(examples)) throw new Error('Kiln: errorAnalysis: examples must be an array of { reference, output }');
  if (typeof logProb !== 'function') throw new Error('Kiln: errorAnalysis: logProb must be a function (tokens, index) => log P(tokens | x_index)');
  const cases = examples.map((ex, i) => {
    if (!ex || !Array.isArray(ex.reference) || !Array.isArray(ex.output)) throw new Error(`Kiln: errorAnalysis: examples[${i}] must have reference and output token arrays`);
    const equal = same(ex.reference, ex.output);
    const referenceLogProb = logProb(ex.reference, i);
    const outputLogProb = equal ? referenceLogProb : logProb(ex.output, i);
    return { reference: [...ex.reference], output: [...ex.output], referenceLogProb, outputLogProb, fault: attributeError(ex.reference, ex.output, referenceLogProb, outputLogProb, options) };
  });
  const count = (f: Fault) => cases.filter((c) => c.fault === f).length;
  const beamErrors = count('beam'), modelErrors = count('model'), errors = beamErrors + modelErrors;
  return {
    cases, correct: count('none'), beamErrors, modelErrors,
    beamFraction: errors ? beamErrors / errors : NaN, modelFraction: errors ? modelErrors / errors : NaN,
    verdict: errors === 0 ? 'none' : beamErrors > modelErrors ? 'beam search' : 'model',
  };
}
