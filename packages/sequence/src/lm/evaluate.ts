/** Language-model losses and scores: per-token cross-entropy, perplexity, sequence log-probabilities. */
import { Tensor, noGrad } from '@kiln/tensor';
import { crossEntropy, type Module } from '@kiln/nn';
import { IGNORE_INDEX, lmBatch } from './data.js';

/**
 * Mean next-token cross-entropy of logits `[B, T, V]` against targets `[B, T]` (padded targets
 * `IGNORE_INDEX` skipped): the loss to give `fit`.
 */
export function lmLoss(logits: Tensor, targets: Tensor): Tensor {
  if (logits.ndim !== 3 || targets.ndim !== 2 || logits.shape[0] !== targets.shape[0] || logits.shape[1] !== targets.shape[1]) {
    throw new Error(`Kiln: lmLoss: expected logits [B, T, V] and targets [B, T], got [${logits.shape.join(',')}] and [${targets.shape.join(',')}]`);
  }
  return crossEntropy(logits.reshape([-1, logits.shape[2]!]), targets.reshape([-1]), { ignoreIndex: IGNORE_INDEX });
}

export interface LMScore {
  /** Mean cross-entropy per predicted token, in nats. */
  crossEntropy: number;
  /** exp(crossEntropy): the model is as unsure as a uniform choice among this many tokens. */
  perplexity: number;
  /** Predicted tokens counted. */
  tokens: number;
}

/** Per-token cross-entropy and perplexity of `model` (eval mode, no grad) over `[input, target]` batches. */
export function evaluateLM(model: Module, batches: Iterable<Tensor[]>): LMScore {
  const wasTraining = model.training;
  model.eval();
  let total = 0, tokens = 0;
  try {
    noGrad(() => {
      for (const [x, y] of batches) {
        const logits = model.forward(x!) as Tensor;
        total += crossEntropy(logits.reshape([-1, logits.shape[2]!]), y!.reshape([-1]), { ignoreIndex: IGNORE_INDEX, reduction: 'sum' }).item() as number;
        for (const v of y!.dataSync()) if (v !== IGNORE_INDEX) tokens++;
      }
    });
  } finally {
    model.train(wasTraining);
  }
  if (tokens === 0) throw new Error('Kiln: evaluateLM: the batches hold no target tokens');
  return { crossEntropy: total / tokens, perplexity: Math.exp(total / tokens), tokens };
}

/**
 * The log-probability (nats) the model gives each whole sequence (every token after the first,
 * e.g. `<bos> n a m e <eos>` scores the name and its end), summed over its tokens.
 */
export function sequenceLogProbs(model: Module, sequences: readonly (readonly number[])[], batchSize = 64): number[] {
  const out: number[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let s = 0; s < sequences.length; s += batchSize) {
        const part = sequences.slice(s, s + batchSize);
        const [x, y] = lmBatch(part);
        const logits = model.forward(x) as Tensor;
        const nll = crossEntropy(logits.reshape([-1, logits.shape[2]!]), y.reshape([-1]), { ignoreIndex: IGNORE_INDEX, reduction: 'none' }).dataSync();
        const t = x.shape[1]!;
        part.forEach((seq, i) => {
          let lp = 0;
          for (let j = 0; j < seq.length - 1; j++) lp -= nll[i * t + j]!;
          out.push(lp);
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return out;
}

/**
 * Perplexity of a unigram model (token frequencies of `train`, add-one smoothed over `vocabSize`)
 * on the next-token targets of `test` — the baseline a sequence model must beat.
 */
export function unigramPerplexity(train: readonly (readonly number[])[], test: readonly (readonly number[])[], vocabSize: number): number {
  const op = 'unigramPerplexity';
  if (!(Number.isInteger(vocabSize) && vocabSize >= 1)) throw new Error(`Kiln: ${op}: vocabSize must be a positive integer, got ${String(vocabSize)}`);
  // an id outside the vocabulary would read an undefined count and make the perplexity NaN
  for (const [name, set] of [['train', train], ['test', test]] as const) {
    set.forEach((s, i) => s.forEach((id, j) => {
      if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new Error(`Kiln: ${op}: ${name}[${i}][${j}] = ${id} is not a token id in 0..${vocabSize - 1}`);
    }));
  }
  if (!test.some((s) => s.length > 1)) throw new Error(`Kiln: ${op}: test has no next-token targets (every sequence is shorter than 2)`);
  const counts = new Float64Array(vocabSize).fill(1);
  let n = vocabSize;
  for (const s of train) for (let j = 1; j < s.length; j++) { counts[s[j]!]!++; n++; }
  let nll = 0, m = 0;
  for (const s of test) for (let j = 1; j < s.length; j++) { nll -= Math.log(counts[s[j]!]! / n); m++; }
  return Math.exp(nll / m);
}
