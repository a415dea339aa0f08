/** Test helpers: a teacher-forcing training loop and batched greedy decoding for EncoderDecoder. */
import { Generator } from '@kiln/tensor';
import { Adam, clipGradNorm } from '@kiln/optim';
import { EncoderDecoder } from '../attention-model.js';

/** Trains with teacher forcing on length-bucketed batches (less padding), Adam and clipping. */
export function train(model: EncoderDecoder, src: number[][], tgt: number[][], opts: { epochs: number; batch: number; lr: number; seed: number; after?: (epoch: number) => boolean }): number[] {
  const order = [...src.keys()].sort((a, b) => src[a]!.length - src[b]!.length);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += opts.batch) batches.push(order.slice(i, i + opts.batch));
  const opt = new Adam(model.parameters(), { lr: opts.lr });
  const g = new Generator(opts.seed), losses: number[] = [];
  for (let ep = 0; ep < opts.epochs; ep++) {
    let total = 0;
    for (const bi of g.permutation(batches.length)) {
      const idx = batches[bi]!;
      const s = idx.map((i) => src[i]!), y = idx.map((i) => tgt[i]!);
      opt.zeroGrad();
      const loss = model.loss(EncoderDecoder.pad(s, model.padId), s.map((q) => q.length), EncoderDecoder.pad(y, model.padId));
      loss.backward();
      clipGradNorm(model.parameters(), 5);
      opt.step();
      total += loss.item();
    }
    losses.push(total / batches.length);
    if (opts.after?.(ep)) break;
  }
  return losses;
}

export function greedyAll(model: EncoderDecoder, src: number[][], maxLength: number): { tokens: number[][]; weights: number[][][] } {
  const tokens: number[][] = [], weights: number[][][] = [];
  for (let i = 0; i < src.length; i += 200) {
    const s = src.slice(i, i + 200);
    const r = model.greedy(EncoderDecoder.pad(s, model.padId), s.map((q) => q.length), maxLength);
    tokens.push(...r.tokens); weights.push(...r.weights);
  }
  return { tokens, weights };
}

