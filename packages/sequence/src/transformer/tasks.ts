/**
 * Small token tasks and a teacher-forcing training loop for `TransformerSeq2Seq`, shared by the
 * tests and demos: seeded copy/reverse data over digit tokens, batching with padding, and
 * exact-match evaluation.
 *
 * Token ids: 0 = pad, 1 = bos, 2 = eos, 3.. = symbols.
 */
import { Generator, Tensor, checkOptions } from '@kiln/tensor';
import { crossEntropy } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import type { TransformerSeq2Seq } from './model.js';

export const PAD_ID = 0, BOS_ID = 1, EOS_ID = 2;

export interface TokenPair { src: number[]; tgt: number[] }

/** n seeded pairs: random symbols (3 .. 3+symbols−1) of length minLen..maxLen, the target copied or reversed. */
export function copyReverseTask(n: number, options: { task: 'copy' | 'reverse'; symbols?: number; minLen?: number; maxLen?: number; seed?: number }): TokenPair[] {
  checkOptions('copyReverseTask', options, { task: ['copy', 'reverse'], symbols: 'posint', minLen: 'posint', maxLen: 'posint', seed: 'int' });
  const { task, symbols = 10, minLen = 3, maxLen = 8, seed = 0 } = options;
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`Kiln: copyReverseTask: n must be an integer ≥ 0, got ${String(n)}`);
  if (minLen > maxLen) throw new Error(`Kiln: copyReverseTask: minLen ${minLen} > maxLen ${maxLen}`);
  const g = new Generator(seed);
  return Array.from({ length: n }, () => {
    const len = minLen + Math.floor(g.random() * (maxLen - minLen + 1));
    const src = Array.from({ length: len }, () => 3 + Math.floor(g.random() * symbols));
    return { src, tgt: task === 'copy' ? [...src] : [...src].reverse() };
  });
}

/** Right-pads token lists with PAD_ID into an int32 [B, T] tensor. */
export function padTokens(seqs: readonly (readonly number[])[]): Tensor {
  const T = Math.max(...seqs.map((s) => s.length));
  const d = new Int32Array(seqs.length * T).fill(PAD_ID);
  seqs.forEach((s, b) => d.set(s, b * T));
  return new Tensor(d, [seqs.length, T], 'int32');
}

export interface TrainOptions {
  steps: number;
  batchSize: number;
  lr?: number;
  /** Decay the learning rate linearly to lr·finalLrFactor over the run (default 1: constant). */
  finalLrFactor?: number;
  seed?: number;
  /** Called every `every` steps with the mean loss since the last call. */
  onLog?: (step: number, loss: number) => void;
  every?: number;
}

/** Teacher forcing with cross-entropy (PAD_ID ignored) and Adam; returns the last logged loss. */
export function trainSeq2Seq(model: TransformerSeq2Seq, data: readonly TokenPair[], options: TrainOptions): number {
  checkOptions('trainSeq2Seq', options, { steps: 'posint', batchSize: 'posint', lr: 'finite', finalLrFactor: 'finite', seed: 'int', onLog: 'function', every: 'posint' });
  const lr0 = options.lr ?? 1e-3, f = options.finalLrFactor ?? 1;
  const opt = new Adam(model.parameters(), { lr: lr0 });
  const g = new Generator(options.seed ?? 0);
  const every = options.every ?? 50;
  model.train();
  let acc = 0, last = NaN;
  for (let step = 1; step <= options.steps; step++) {
    const batch = Array.from({ length: options.batchSize }, () => data[Math.floor(g.random() * data.length)]!);
    const src = padTokens(batch.map((p) => p.src));
    const tgtIn = padTokens(batch.map((p) => [BOS_ID, ...p.tgt]));
    const tgtOut = padTokens(batch.map((p) => [...p.tgt, EOS_ID]));
    const logits = model.forward(src, tgtIn);
    const V = logits.shape[2]!;
    const loss = crossEntropy(logits.reshape([-1, V]), tgtOut.reshape([-1]), { ignoreIndex: PAD_ID });
    opt.zeroGrad();
    loss.backward();
    if (f !== 1) for (const group of opt.paramGroups) group.lr = lr0 * (1 - ((1 - f) * (step - 1)) / Math.max(options.steps - 1, 1));
    opt.step();
    acc += loss.item();
    if (step % every === 0) {
      last = acc / every;
      acc = 0;
      options.onLog?.(step, last);
    }
  }
  model.eval();
  return last;
}

/** Exact-match accuracy of greedy decoding (batched, key/value cache). */
export function exactMatch(model: TransformerSeq2Seq, data: readonly TokenPair[], batchSize = 128): number {
  let ok = 0;
  for (let i = 0; i < data.length; i += batchSize) {
    const chunk = data.slice(i, i + batchSize);
    const maxLength = Math.max(...chunk.map((p) => p.tgt.length)) + 2;
    const out = model.greedy(padTokens(chunk.map((p) => p.src)), { bos: BOS_ID, eos: EOS_ID, maxLength });
    chunk.forEach((p, b) => { if (out[b]!.length === p.tgt.length && out[b]!.every((t, j) => t === p.tgt[j])) ok++; });
  }
  return ok / data.length;
}
