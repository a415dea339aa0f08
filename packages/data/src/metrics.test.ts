import { describe, it, expect } from 'vitest';
import { tensor } from '@kiln/tensor';
import { confusionMatrix, accuracy, precision, recall, f1Score, predictions } from './index.js';

describe('metrics', () => {
  // target: 1 1 1 0 0 0 1 0 ; pred: 1 0 1 0 1 0 1 0 → TP 3, FN 1, FP 1, TN 3
  const target = [1, 1, 1, 0, 0, 0, 1, 0], pred = [1, 0, 1, 0, 1, 0, 1, 0];
  it('binary confusion matrix, accuracy, precision, recall, F1 by hand', () => {
    expect(confusionMatrix(pred, target)).toEqual([[3, 1], [1, 3]]);
    expect(accuracy(pred, target)).toBe(0.75);
    expect(precision(pred, target)).toBe(0.75);
    expect(recall(pred, [1, 1, 1, 1, 0, 0, 1, 0])).toBeCloseTo(3 / 5);
    expect(f1Score(pred, [1, 1, 1, 1, 0, 0, 1, 0])).toBeCloseTo((2 * 0.75 * 0.6) / 1.35);
  });
  it('macro averages over classes', () => {
    const t = [0, 0, 1, 1, 2, 2], p = [0, 1, 1, 1, 2, 0];
    expect(confusionMatrix(p, t)).toEqual([[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
    // precision per class: 1/2, 2/3, 1 ; recall: 1/2, 1, 1/2
    expect(precision(p, t, { average: 'macro' })).toBeCloseTo((0.5 + 2 / 3 + 1) / 3);
    expect(recall(p, t, { average: 'macro' })).toBeCloseTo((0.5 + 1 + 0.5) / 3);
    const f = [0.5, 0.8, 2 / 3];
    expect(f1Score(p, t, { average: 'macro' })).toBeCloseTo((f[0]! + f[1]! + f[2]!) / 3);
  });
  it('predictions from logits and probabilities; tensors accepted', () => {
    expect(Array.from(predictions(tensor([[0.1, 2], [3, -1]])))).toEqual([1, 0]);
    expect(Array.from(predictions(tensor([[0.7], [0.2]])))).toEqual([1, 0]);
    expect(accuracy(tensor(Int32Array.from([1, 2]), { dtype: 'int32' }), [1, 3])).toBe(0.5);
    expect(() => accuracy([1], [1, 2])).toThrow(/1 predictions for 2 targets/);
  });
  it('rejects scores passed for labels instead of comparing them as values', () => {
    // probabilities straight from a model used to give accuracy 0 (and a NaN-keyed confusion matrix)
    expect(() => accuracy(tensor([0.75, 0.25]), [1, 0])).toThrow(/^Kiln: accuracy: pred must hold class labels \(integers\), got 0\.75 at index 0; use predictions\(output\) for model outputs$/);
    expect(() => confusionMatrix([1, 0], [1, 0.5])).toThrow(/^Kiln: confusionMatrix: target must hold class labels \(integers\), got 0\.5 at index 1/);
    expect(() => confusionMatrix([1, 0], [1, 0], 2.5)).toThrow(/^Kiln: confusionMatrix: numClasses must be a positive integer, got 2\.5$/);
  });
});
