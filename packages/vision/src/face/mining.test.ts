/** Online triplet mining and Siamese helpers: hand-computed cases, gradchecks, errors. */
import { describe, expect, it } from 'vitest';
import { noGrad, tensor } from '@kiln/tensor';
import { checkGrad, randomInput } from '@kiln/tensor/testing';
import { Linear } from '@kiln/nn';
import {
  batchHardTripletLoss, batchSemiHardTripletLoss, chooseThreshold, distanceMatrix, SiameseClassifier, SiameseNetwork, verify,
} from './index.js';

// points on a line: 0, 1 (identity 0) and 3, 10 (identity 1)
const x = tensor([[0], [1], [3], [10]], { dtype: 'float64' });
const y = tensor([0, 0, 1, 1], { dtype: 'int32' });

describe('online triplet mining', () => {
  it('distanceMatrix gives Euclidean distances', () => {
    const d = distanceMatrix(tensor([[0, 0], [3, 4], [6, 8]], { dtype: 'float64' })).toArray() as number[][];
    expect(d[0]![1]).toBeCloseTo(5, 9);
    expect(d[0]![2]).toBeCloseTo(10, 9);
    expect(d[2]![1]).toBeCloseTo(5, 9);
    expect(d[1]![1]).toBeLessThan(1e-5);
  });

  it('batch-hard: farthest positive and nearest negative per anchor (hand-computed)', () => {
    // anchor 0: 1 − 3 + 2.5; anchor 1: 1 − 2 + 2.5; anchor 3: 7 − 2 + 2.5; anchor 10: 7 − 9 + 2.5
    const r = batchHardTripletLoss(x, y, { margin: 2.5 });
    expect(r.loss.item()).toBeCloseTo((0.5 + 1.5 + 7.5 + 0.5) / 4, 6);
    expect(r.triplets).toBe(4);
    expect(r.active).toBe(4);
  });

  it('semi-hard: nearest negative farther than the positive, else the farthest negative (hand-computed)', () => {
    // (0,1): n=3 → 0.5; (1,0): n=3 → 1.5; (3,10): no negative beyond 7 → farthest 0 → 7 − 3 + 2.5; (10,3): n=1 → 0.5
    const r = batchSemiHardTripletLoss(x, y, { margin: 2.5 });
    expect(r.loss.item()).toBeCloseTo((0.5 + 1.5 + 6.5 + 0.5) / 4, 6);
    expect(r.triplets).toBe(4);
    // with margin 0.5 only the (3, 10) pair stays active (7 − 3 + 0.5), the others are satisfied
    const s = batchSemiHardTripletLoss(x, y, { margin: 0.5 });
    expect(s.active).toBe(1);
    expect(s.loss.item()).toBeCloseTo(4.5 / 4, 6);
  });

  it('anchors without a positive or a negative give no triplets and a zero loss', () => {
    const r = batchHardTripletLoss(x, tensor([0, 1, 2, 3], { dtype: 'int32' }));
    expect(r.triplets).toBe(0);
    expect(r.loss.item()).toBe(0);
  });

  it('gradcheck (float64) through the mined distances', () => {
    const e = randomInput([6, 3], 7);
    const labels = tensor([0, 0, 1, 1, 2, 2], { dtype: 'int32' });
    checkGrad((t) => batchHardTripletLoss(t, labels, { margin: 1 }).loss, [e]);
    checkGrad((t) => batchSemiHardTripletLoss(t, labels, { margin: 1 }).loss, [e]);
  });

  it('bad input names the function and shapes', () => {
    expect(() => batchHardTripletLoss(x, tensor([0, 1], { dtype: 'int32' }))).toThrow(/Kiln: batchHardTripletLoss: labels must be \[B\] = \[4\] to match embeddings \[4,1\], got \[2\]/);
    expect(() => batchSemiHardTripletLoss(x.reshape([4]), y)).toThrow(/batchSemiHardTripletLoss: embeddings must be \[B, D\], got \[4\]/);
    expect(() => batchHardTripletLoss(x, tensor([0, 0, 1, 1]))).toThrow(/labels must be int32 identities, got dtype float32/);
  });
});

describe('Siamese verification', () => {
  it('chooseThreshold finds the best cut between same and different distances', () => {
    const r = chooseThreshold([0.1, 0.3, 0.35, 0.9, 1.2, 0.5], [1, 1, 0, 0, 0, 1]);
    // cuts at 0.325 (0.5 'same' wrong) and 0.7 (0.35 'different' wrong) both get 5 of 6; the first is kept
    expect(r.accuracy).toBeCloseTo(5 / 6, 12);
    expect(r.threshold).toBeCloseTo(0.325, 12);
    expect(chooseThreshold([1, 2, 3, 4], [true, true, false, false])).toEqual({ threshold: 2.5, accuracy: 1 });
    expect(() => chooseThreshold([1, 2], [1])).toThrow(/chooseThreshold: distances \(2\) and same \(1\)/);
  });

  it('SiameseNetwork embeds on the unit sphere and verify thresholds distances', () => {
    const lin = new Linear(2, 3);
    const net = new SiameseNetwork(lin);
    const a = tensor([[1, 0], [0, 1]]), b = tensor([[1, 0], [0, -1]]);
    const e = noGrad(() => net.forward(a));
    const norms = e.square().sum(1).dataSync();
    for (const v of norms) expect(v).toBeCloseTo(1, 5);
    const d = noGrad(() => net.distance(a, b)).dataSync();
    expect(d[0]).toBeLessThan(1e-3);
    expect(verify(net, a, b, 1e-2)).toEqual([true, d[1]! < 1e-2]);
    expect(() => net.distance(a, tensor([[1, 0]]))).toThrow(/SiameseNetwork.distance: the two inputs must be batches of the same shape, got \[2,2\] and \[1,2\]/);
  });

  it('SiameseClassifier: logistic unit on |f(a) − f(b)|, symmetric in a and b; gradcheck', () => {
    const emb = new Linear(3, 4, { dtype: 'float64' });
    const clf = new SiameseClassifier(emb, 4);
    clf.head.weight.requiresGrad_(true);
    const a = randomInput([5, 3], 3), b = randomInput([5, 3], 4);
    const ab = clf.forward(a, b), ba = clf.forward(b, a);
    expect(ab.shape).toEqual([5]);
    expect(Array.from(ab.dataSync())).toEqual(Array.from(ba.dataSync()));
    checkGrad((p, q) => clf.forward(p, q).sigmoid().sum(), [a, b]);
    expect(() => clf.forward(a, b.narrow(0, 0, 4))).toThrow(/SiameseClassifier: the two inputs must be batches of the same shape, got \[5,3\] and \[4,3\]/);
    expect(() => new SiameseClassifier(emb, 0)).toThrow(/embeddingSize must be a positive integer, got 0/);
  });
});
