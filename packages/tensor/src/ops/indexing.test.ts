/** gather, scatterAdd, indexSelect, oneHot: torch semantics, errors, gradchecks. */
import { describe, expect, it } from 'vitest';
import { gather, indexSelect, oneHot, scatterAdd, tensor, zeros } from '../index.js';
import { checkGrad, forEachBackend, randomInput } from '../test-utils/index.js';

const idx = (v: unknown) => tensor(v as never, { dtype: 'int32' });

forEachBackend('indexing', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  it('gather along dims 0 and -1, index smaller than x', () => {
    expect(gather(x, 1, idx([[2, 0], [1, 1]])).toArray()).toEqual([[3, 1], [5, 5]]);
    expect(gather(x, 0, idx([[1, 0, 1]])).toArray()).toEqual([[4, 2, 6]]);
    expect(gather(x, -1, idx([[0], [2]])).toArray()).toEqual([[1], [6]]);
  });
  it('scatterAdd accumulates repeated indices and leaves x untouched', () => {
    const base = zeros([2, 3]);
    const out = scatterAdd(base, 1, idx([[0, 0], [2, 1]]), tensor([[1, 2], [3, 4]]));
    expect(out.toArray()).toEqual([[3, 0, 0], [0, 4, 3]]);
    expect(base.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    // src larger than index: only the leading block is used.
    expect(scatterAdd(zeros([3]), 0, idx([2]), tensor([5, 7])).toArray()).toEqual([0, 0, 5]);
  });
  it('indexSelect picks slices, with repeats and an empty index', () => {
    expect(indexSelect(x, 0, idx([1, 1, 0])).toArray()).toEqual([[4, 5, 6], [4, 5, 6], [1, 2, 3]]);
    expect(indexSelect(x, -1, idx([2])).toArray()).toEqual([[3], [6]]);
    expect(indexSelect(x, 1, idx([])).shape).toEqual([2, 0]);
  });
  it('oneHot', () => {
    expect(oneHot(idx([2, 0]), 3).toArray()).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(oneHot(idx([[1]]), 2).shape).toEqual([1, 1, 2]);
    expect(() => oneHot(idx([3]), 3)).toThrow(/oneHot: index 3 is out of range/);
    expect(() => oneHot(tensor([1]), 3)).toThrow(/oneHot: indices must be int32, got float32/);
    expect(() => oneHot(idx([0]), 0)).toThrow(/oneHot: numClasses must be a positive integer/);
  });
  it('errors name the op and the values', () => {
    expect(() => gather(x, 1, idx([[3]]).reshape(1, 1))).toThrow('Kiln: gather: index 3 is out of range for dim 1 of size 3');
    expect(() => gather(x, 1, tensor([[0]]))).toThrow(/gather: index must be int32, got float32/);
    expect(() => gather(x, 1, idx([0]))).toThrow(/gather: index shape \[1\] must have the rank/);
    expect(() => indexSelect(x, 0, idx([-1]))).toThrow(/indexSelect: index -1 is out of range/);
    expect(() => indexSelect(x, 0, idx([[0]]))).toThrow(/indexSelect: index must be 1-D/);
    expect(() => scatterAdd(x, 1, idx([[0, 1]]), tensor([[1]]))).toThrow(/scatterAdd: src shape \[1,1\] must cover/);
  });
  describe('gradchecks (float64)', () => {
    it('gather (x)', () => checkGrad((t) => gather(t, 1, idx([[2, 0, 2], [1, 1, 0]])), [randomInput([2, 3], 81)]));
    it('scatterAdd (x and src)', () =>
      checkGrad((t, s) => scatterAdd(t, 0, idx([[1, 0], [1, 1]]), s).square(), [randomInput([2, 3], 82), randomInput([2, 2], 83)]));
    it('gather with an index smaller than x outside dim', () =>
      checkGrad((t) => gather(t, 0, idx([[2, 0]])).square(), [randomInput([3, 3], 85)]));
    it('scatterAdd with src larger than index (only the leading block gets gradient)', () =>
      checkGrad((t, s) => scatterAdd(t, 1, idx([[2], [0]]), s).square(), [randomInput([2, 3], 86), randomInput([3, 2], 87)]));
    it('indexSelect (x)', () => checkGrad((t) => indexSelect(t, 1, idx([2, 0, 2])).square(), [randomInput([2, 3], 84)]));
  });
});
