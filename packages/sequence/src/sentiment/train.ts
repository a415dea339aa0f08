import { Generator, Tensor, noGrad, checkOptions } from '@kiln/tensor';
import { crossEntropy, type Module } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { batchIds } from './models.js';
import type { SentimentExample } from './data.js';
import type { Vocab } from '../text/vocab.js';

type Classifier = Module & { vocab: Vocab; forward(ids: Tensor, lengths: Tensor): Tensor };

export interface TrainClassifierOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/** Mini-batch Adam on cross-entropy; returns the mean loss of each epoch. */
export function trainClassifier(model: Classifier, data: readonly SentimentExample[], options: TrainClassifierOptions = {}): number[] {
  checkOptions('trainClassifier', options, { epochs: 'posint', batchSize: 'posint', lr: 'finite', seed: 'int', onEpoch: 'function' });
  if (data.length === 0) throw new Error('Kiln: trainClassifier: no training examples');
  const o = { epochs: 10, batchSize: 32, lr: 0.01, seed: 0, ...options };
  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new Adam(params, { lr: o.lr });
  const gen = new Generator(o.seed);
  const losses: number[] = [];
  model.train();
  for (let e = 1; e <= o.epochs; e++) {
    const perm = gen.permutation(data.length);
    let sum = 0;
    for (let s = 0; s < data.length; s += o.batchSize) {
      const batch = Array.from(perm.subarray(s, s + o.batchSize), (i) => data[i]!);
      const { ids, lengths } = batchIds(model.vocab, batch.map((x) => x.tokens));
      const loss = crossEntropy(model.forward(ids, lengths), new Tensor(Int32Array.from(batch, (x) => x.label), [batch.length], 'int32'));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      sum += loss.item() * batch.length;
    }
    losses.push(sum / data.length);
    o.onEpoch?.(e, sum / data.length);
  }
  model.eval();
  return losses;
}

/** Accuracy overall and per sentence kind. */
export function classifierAccuracy(model: Classifier, data: readonly SentimentExample[]): { accuracy: number; byKind: Record<string, number> } {
  if (data.length === 0) throw new Error('Kiln: classifierAccuracy: no examples');
  const pred = noGrad(() => {
    const out: number[] = [];
    for (let s = 0; s < data.length; s += 256) {
      const batch = data.slice(s, s + 256);
      const { ids, lengths } = batchIds(model.vocab, batch.map((x) => x.tokens));
      out.push(...Array.from(model.forward(ids, lengths).argmax(1).dataSync(), Number));
    }
    return out;
  });
  const hit: Record<string, [number, number]> = {};
  let ok = 0;
  data.forEach((x, i) => {
    const h = (hit[x.kind] ??= [0, 0]);
    h[1]++;
    if (pred[i] === x.label) { ok++; h[0]++; }
  });
  return { accuracy: ok / data.length, byKind: Object.fromEntries(Object.entries(hit).map(([k, [a, n]]) => [k, a / n])) };
}
