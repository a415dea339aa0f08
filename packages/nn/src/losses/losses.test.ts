import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@kiln/tensor';
import { checkGrad, expectClose } from '@kiln/tensor/testing';
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, cosineEmbeddingLoss, crossEntropy, CrossEntropyLoss, huberLoss, l1Loss, l2Penalty,
  mseLoss, nllLoss, smoothL1Loss,
} from '../index.js';

const f64 = (data: number[], shape: number[], grad = false) => tensor(Float64Array.from(data), { shape, requiresGrad: grad });
const i32 = (data: number[]) => tensor(Int32Array.from(data), { shape: [data.length] });
const lse = (r: number[]) => Math.log(r.reduce((a, v) => a + Math.exp(v), 0));

describe('regression losses', () => {
  const x = f64([0, 2, -1, 3], [4], true);
  const y = f64([1, 0.5, -1, 0], [4]);
  it('hand values', () => {
    expect(mseLoss(x, y).item()).toBeCloseTo((1 + 2.25 + 0 + 9) / 4, 12);
    expect(mseLoss(x, y, { reduction: 'sum' }).item()).toBeCloseTo(12.25, 12);
    expectClose(l1Loss(x, y, { reduction: 'none' }), [1, 1.5, 0, 3]);
    // huber delta 1: |d| = 1, 1.5, 0, 3 → 0.5, 1, 0, 2.5
    expect(huberLoss(x, y, { reduction: 'sum' }).item()).toBeCloseTo(0.5 + 1 + 0 + 2.5, 12);
    // huber delta 2: 0.5, 1.125, 0, 2·(3−1) = 4
    expect(huberLoss(x, y, { delta: 2, reduction: 'sum' }).item()).toBeCloseTo(0.5 + 1.125 + 4, 12);
    // smoothL1 beta 2 = huber(2)/2
    expect(smoothL1Loss(x, y, { beta: 2, reduction: 'sum' }).item()).toBeCloseTo((0.5 + 1.125 + 4) / 2, 12);
  });
  it('gradchecks', () => {
    for (const f of [mseLoss, l1Loss, huberLoss, smoothL1Loss]) checkGrad((a) => f(a, y), [f64([0.1, 2, -1.3, 3], [4], true)]);
  });
  it('l2Penalty = λ/2·Σ‖W‖²', () => {
    const w1 = f64([1, 2], [2], true), w2 = f64([3], [1], true);
    expect(l2Penalty([w1, w2], 0.1).item()).toBeCloseTo(0.05 * 14, 12);
    expect(() => l2Penalty([w1], Number.NaN)).toThrow(/^Kiln: l2Penalty: lambda must be a finite number >= 0, got NaN$/);
    expect(() => l2Penalty([w1], -0.1)).toThrow(/^Kiln: l2Penalty: lambda must be a finite number >= 0, got -0\.1$/);
    l2Penalty([w1, w2], 0.1).backward();
    expectClose(w1.grad!, [0.1, 0.2]);
  });
  it('cosineEmbeddingLoss', () => {
    const a = f64([1, 0, 1, 1], [2, 2], true), b = f64([1, 0, -1, 0], [2, 2], true);
    // row 0: cos 1, y = 1 → 0; row 1: cos −1/√2, y = −1, margin −0.9 → max(0, −0.7071 + 0.9)
    const l = cosineEmbeddingLoss(a, b, f64([1, -1], [2]), { margin: -0.9, reduction: 'none' });
    expectClose(l, [0, -Math.SQRT1_2 + 0.9], { atol: 1e-7 });
    checkGrad((p, q) => cosineEmbeddingLoss(p, q, f64([1, -1], [2]), { margin: -0.9 }), [f64([1, 0.2, 1, 1], [2, 2], true), f64([0.9, 0.3, -1, 0.1], [2, 2], true)]);
  });
  it('shape mismatch names the loss', () => {
    expect(() => mseLoss(f64([1, 2], [2]), f64([1, 2, 3], [3]))).toThrow(/mseLoss: input shape \[2\] and target shape \[3\] must match/);
  });
});

describe('classification losses', () => {
  it('BCE on probabilities (log clamped at −100) and on logits', () => {
    const p = f64([0.8, 0.1, 0], [3]);
    const y = f64([1, 0, 1], [3]);
    expectClose(binaryCrossEntropy(p, y, { reduction: 'none' }), [-Math.log(0.8), -Math.log(0.9), 100]);
    const z = f64([2, -1, 0, 50, -50], [5]);
    const t = f64([1, 0, 1, 0, 1], [5]);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const exp = [-Math.log(sig(2)), -Math.log(1 - sig(-1)), Math.log(2), 50, 50];
    expectClose(binaryCrossEntropyWithLogits(z, t, { reduction: 'none' }), exp, { rtol: 1e-10 });
    checkGrad((a) => binaryCrossEntropy(a, y), [f64([0.7, 0.2, 0.6], [3], true)]);
    checkGrad((a) => binaryCrossEntropyWithLogits(a, f64([1, 0, 0.3], [3]), { posWeight: 2 }), [f64([0.7, -1.2, 0.6], [3], true)]);
  });
  it('crossEntropy with class indices, ignoreIndex, weights and label smoothing', () => {
    const rows = [[1, 2, 0.5], [0, -1, 3]];
    const x = f64(rows.flat(), [2, 3], true);
    const t = i32([1, 2]);
    const nll = [lse(rows[0]!) - 2, lse(rows[1]!) - 3];
    expect(crossEntropy(x, t).item()).toBeCloseTo((nll[0]! + nll[1]!) / 2, 12);
    expect(crossEntropy(x, i32([1, -100])).item()).toBeCloseTo(nll[0]!, 12);
    const w = f64([1, 2, 3], [3]);
    expect(crossEntropy(x, t, { weight: w }).item()).toBeCloseTo((2 * nll[0]! + 3 * nll[1]!) / 5, 12);
    // label smoothing ε: (1−ε)·nll + ε·mean_c(−log p_c)
    const eps = 0.1;
    const smooth = rows.map((r) => r.reduce((a, v) => a + (lse(r) - v), 0) / 3);
    expect(crossEntropy(x, t, { labelSmoothing: eps }).item()).toBeCloseTo(((1 - eps) * (nll[0]! + nll[1]!) + eps * (smooth[0]! + smooth[1]!)) / 2, 12);
    // soft targets = one-hot gives the same as indices; smoothing of soft targets matches too
    const oneHot = f64([0, 1, 0, 0, 0, 1], [2, 3]);
    expect(crossEntropy(x, oneHot).item()).toBeCloseTo(crossEntropy(x, t).item(), 12);
    expect(crossEntropy(x, oneHot, { labelSmoothing: eps }).item()).toBeCloseTo(crossEntropy(x, t, { labelSmoothing: eps }).item(), 12);
    expect(new CrossEntropyLoss({ reduction: 'sum' }).forward(x, t).item()).toBeCloseTo(nll[0]! + nll[1]!, 12);
    checkGrad((a) => crossEntropy(a, t, { labelSmoothing: 0.2, weight: w }), [x]);
    checkGrad((a) => crossEntropy(a, f64([0.2, 0.5, 0.3, 0.1, 0.1, 0.8], [2, 3])), [x]);
  });
  it('crossEntropy over spatial dims [N, C, L]', () => {
    const x = f64([1, 2, 3, 4, 0, -1], [1, 2, 3], true); // classes dim 1
    const t = tensor(Int32Array.from([0, 1, 0]), { shape: [1, 3] });
    const expected = [lse([1, 4]) - 1, lse([2, 0]) - 0, lse([3, -1]) - 3];
    expectClose(crossEntropy(x, t, { reduction: 'none' }), [expected]);
    checkGrad((a) => crossEntropy(a, t), [x]);
  });
  it('nllLoss and errors', () => {
    const lp = f64([-1, -2, -3, -0.5], [2, 2]);
    expect(nllLoss(lp, i32([1, 0])).item()).toBeCloseTo((2 + 3) / 2, 12);
    expect(() => nllLoss(lp, i32([2, 0]))).toThrow(/nllLoss: target 2 out of range for 2 classes/);
    expect(() => crossEntropy(lp, i32([1, 0, 1]))).toThrow(/target must have shape \[2\] for input \[2,2\], got \[3\]/);
    expect(() => crossEntropy(lp, f64([1, 0], [2]))).toThrow(/crossEntropy: input shape \[2,2\] and target shape \[2\]/);
  });
  it('loss options are validated: a misspelt option is an error, not ignored', () => {
    const lp = f64([-1, -2, -3, -0.5], [2, 2]);
    expect(() => crossEntropy(lp, i32([1, 0]), { label_smoothing: 0.1 } as never)).toThrow(/Kiln: crossEntropy: unknown option 'label_smoothing' \(known: reduction, weight, ignoreIndex, labelSmoothing\)/);
    expect(() => nllLoss(lp, i32([1, 0]), { ignore_index: 0 } as never)).toThrow(/Kiln: nllLoss: unknown option 'ignore_index'/);
    expect(() => nllLoss(lp, i32([1, 0]), { weight: [1, 2] } as never)).toThrow(/Kiln: nllLoss: option 'weight' must be a Tensor, got \[1,2\]/);
    expect(() => binaryCrossEntropyWithLogits(f64([0.5], [1]), f64([1], [1]), { pos_weight: 2 } as never)).toThrow(/Kiln: binaryCrossEntropyWithLogits: unknown option 'pos_weight'/);
    expect(() => mseLoss(f64([1], [1]), f64([1], [1]), { reduce: 'sum' } as never)).toThrow(/Kiln: mseLoss: unknown option 'reduce' \(known: reduction\)/);
    expect(() => huberLoss(f64([1], [1]), f64([1], [1]), { beta: 2 } as never)).toThrow(/Kiln: huberLoss: unknown option 'beta' \(known: reduction, delta\)/);
    expect(() => new CrossEntropyLoss({ labelsmoothing: 0.1 } as never)).toThrow(/Kiln: CrossEntropyLoss: unknown option 'labelsmoothing'/);
    // labelSmoothing still reaches the smoothed path (it is not passed on to nllLoss)
    expect(crossEntropy(lp, i32([1, 0]), { labelSmoothing: 0.2 }).item()).not.toBeCloseTo(crossEntropy(lp, i32([1, 0])).item(), 6);
  });
  it('binaryCrossEntropy rejects inputs outside [0, 1] like PyTorch (logits gave NaN)', () => {
    expect(() => binaryCrossEntropy(f64([0.5, 1.5], [2]), f64([1, 0], [2]))).toThrow(/^Kiln: binaryCrossEntropy: input must hold probabilities in \[0, 1\], got 1\.5 at flat index 1 \(for logits use binaryCrossEntropyWithLogits\)$/);
    expect(() => binaryCrossEntropy(f64([Number.NaN], [1]), f64([1], [1]))).toThrow(/got NaN at flat index 0/);
  });
  it('smoothL1Loss rejects a negative beta like PyTorch', () => {
    expect(() => smoothL1Loss(f64([1, 3], [2]), f64([0, 0], [2]), { beta: -1 })).toThrow(/Kiln: smoothL1Loss: beta must be >= 0, got -1/);
  });
});

void (null as unknown as Tensor);
