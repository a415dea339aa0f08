/** Reductions, softmax/logSoftmax/gelu and matmul: hand-computed values, edge shapes, gradchecks. */
import { describe, expect, it } from 'vitest';
import {
  argmax, argmin, gelu, logSoftmax, logsumexp, matmul, max, mean, min, prod, softmax, std, sum, tensor, variance, zeros,
} from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

forEachBackend('reductions', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  it('sum/mean over all, one, several and negative dims, with keepdim', () => {
    expect(sum(x).item()).toBe(21);
    expect(sum(x, 0).toArray()).toEqual([5, 7, 9]);
    expect(sum(x, -1).toArray()).toEqual([6, 15]);
    expect(sum(x, 1, true).toArray()).toEqual([[6], [15]]);
    expect(sum(x, [0, 1]).shape).toEqual([]);
    expect(mean(x, 0).toArray()).toEqual([2.5, 3.5, 4.5]);
    expect(mean(x, -1, true).shape).toEqual([2, 1]);
    expect(mean(tensor([1, 2], { dtype: 'int32' })).dtype).toBe('float32');
  });
  it('sum of bool counts as int32; sums over empty dims are 0', () => {
    const s = sum(tensor([true, false, true]));
    expect(s.dtype).toBe('int32');
    expect(s.item()).toBe(2);
    expect(sum(zeros([2, 0]), 1).toArray()).toEqual([0, 0]);
    expect(sum(zeros([0])).item()).toBe(0);
  });
  it('max/min values, and an empty dim is an error', () => {
    expect(max(x).item()).toBe(6);
    expect(max(x, 0).toArray()).toEqual([4, 5, 6]);
    expect(min(x, 1, true).toArray()).toEqual([[1], [4]]);
    expect(() => max(zeros([2, 0]), 1)).toThrow(/max: cannot reduce an empty dimension/);
  });
  it('prod, including zeros', () => {
    expect(prod(x, 1).toArray()).toEqual([6, 120]);
    expect(prod(tensor([2, 0, 3])).item()).toBe(0);
  });
  it('var/std with Bessel correction, population and keepdim', () => {
    const v = tensor([1, 2, 3, 4], { dtype: 'float64' });
    expectClose(variance(v), 5 / 3);
    expectClose(variance(v, 0, { correction: 0 }), 1.25);
    expectClose(std(v), Math.sqrt(5 / 3));
    expect(variance(x, 1, { keepdim: true }).toArray()).toEqual([[1], [1]]);
  });
  it('logsumexp is stable for large values and gives -Inf on all -Inf slices', () => {
    expectClose(logsumexp(tensor([1000, 1000], { dtype: 'float64' })), 1000 + Math.log(2), { atol: 1e-9 });
    expectClose(logsumexp(tensor([[0, Math.log(3)]], { dtype: 'float64' }), -1), [Math.log(4)]);
    expect(logsumexp(tensor([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(logsumexp(x, 1, true).shape).toEqual([2, 1]);
  });
  it('argmax/argmin: first extreme, flat or along a dim, int32', () => {
    const t = tensor([[1, 9, 9], [7, 0, 0]]);
    expect(argmax(t).item()).toBe(1);
    expect(argmax(t, 1).toArray()).toEqual([1, 0]);
    expect(argmin(t, -1).toArray()).toEqual([0, 1]);
    expect(argmax(t, 0, true).toArray()).toEqual([[1, 0, 0]]);
    expect(argmax(t).dtype).toBe('int32');
    expect(() => argmax(zeros([0]))).toThrow(/argmax: cannot reduce an empty tensor/);
  });
  it('bad dims name the op', () => {
    expect(() => sum(x, 2)).toThrow(/sum/);
    expect(() => mean(x, -3)).toThrow(/mean/);
  });

  describe('gradchecks (float64)', () => {
    const a = () => randomInput([2, 3, 2], 31);
    it('sum (all, dim, keepdim)', () => {
      checkGrad((t) => sum(t), [a()]);
      checkGrad((t) => sum(t, [0, 2], true), [a()]);
    });
    it('mean', () => checkGrad((t) => mean(t, -1), [a()]));
    it('prod without zeros', () => checkGrad((t) => prod(t, 1), [a()]));
    it('prod with one and with two zeros in a slice', () => {
      const t = randomInput([2, 3], 32);
      const d = t.dataSync();
      d[1] = 0;
      d[3] = 0;
      d[5] = 0;
      checkGrad((u) => prod(u, 1), [t]);
      checkGrad((u) => prod(u), [randomInput([3], 33)]);
    });
    it('prod gradient with zeros by hand', () => {
      const t = tensor([2, 0, 3], { dtype: 'float64', requiresGrad: true });
      prod(t).backward();
      expect(t.grad!.toArray()).toEqual([0, 6, 0]);
      const u = tensor([0, 0, 3], { dtype: 'float64', requiresGrad: true });
      prod(u).backward();
      expect(u.grad!.toArray()).toEqual([0, 0, 0]);
    });
    it('max and min', () => {
      checkGrad((t) => max(t, 1), [a()]);
      checkGrad((t) => min(t), [a()]);
    });
    it('max splits ties evenly', () => {
      const t = tensor([3, 3, 1], { requiresGrad: true });
      max(t).backward();
      expect(t.grad!.toArray()).toEqual([0.5, 0.5, 0]);
    });
    it('var and std', () => {
      checkGrad((t) => variance(t, [0, 2]), [a()]);
      checkGrad((t) => std(t, 1, { correction: 0, keepdim: true }), [a()]);
    });
    it('logsumexp', () => checkGrad((t) => logsumexp(t, -1), [a()]));
  });
});

forEachBackend('softmax, logSoftmax, gelu', () => {
  it('softmax rows sum to one, shift invariance, hand values', () => {
    const s = softmax(tensor([[0, Math.log(3)], [1000, 1000]], { dtype: 'float64' }), 1);
    expectClose(s, [[0.25, 0.75], [0.5, 0.5]]);
    expectClose(softmax(tensor([[1, 2], [3, 4]]), 0), [[0.11920292, 0.11920292], [0.88079708, 0.88079708]]);
    expectClose(logSoftmax(tensor([0, Math.log(3)], { dtype: 'float64' }), -1), [Math.log(0.25), Math.log(0.75)]);
    expect(softmax(tensor([1, 2], { dtype: 'int32' }), 0).dtype).toBe('float32');
    expect(() => softmax(tensor([1]), 1)).toThrow(/softmax/);
    expect(softmax(zeros([2, 0]), 1).shape).toEqual([2, 0]);
    expect(logSoftmax(zeros([0, 3]), -1).shape).toEqual([0, 3]);
  });
  it('gelu exact and tanh', () => {
    const x = tensor([-1, 0, 1], { dtype: 'float64' });
    expectClose(gelu(x), [-0.15865525393145707, 0, 0.8413447460685429], { atol: 1e-12 });
    expectClose(gelu(x, 'tanh'), [-0.15880800939172324, 0, 0.8411919906082768], { atol: 1e-12 });
  });
  it('gradchecks', () => {
    checkGrad((t) => softmax(t, 1), [randomInput([2, 3], 41)]);
    checkGrad((t) => logSoftmax(t, 0), [randomInput([2, 3], 42)]);
    checkGrad((t) => gelu(t), [randomInput([5], 43, -3, 3)]);
    checkGrad((t) => gelu(t, 'tanh'), [randomInput([5], 44, -3, 3)]);
  });
});

forEachBackend('matmul', () => {
  const A = tensor([[1, 2, 3], [4, 5, 6]]);
  const B = tensor([[1, 0], [0, 1], [1, 1]]);
  it('2-D, 1-D on either side, and 1-D @ 1-D', () => {
    expect(matmul(A, B).toArray()).toEqual([[4, 5], [10, 11]]);
    expect(matmul(tensor([1, 1]), A).toArray()).toEqual([5, 7, 9]);
    expect(matmul(A, tensor([1, 0, 1])).toArray()).toEqual([4, 10]);
    const dot = matmul(tensor([1, 2]), tensor([3, 4]));
    expect(dot.shape).toEqual([]);
    expect(dot.item()).toBe(11);
  });
  it('broadcasts batch dims', () => {
    const a = tensor([[[1, 0], [0, 1]], [[2, 0], [0, 2]]]); // [2, 2, 2]
    const b = tensor([[1, 2], [3, 4]]);
    expect(matmul(a, b).toArray()).toEqual([[[1, 2], [3, 4]], [[2, 4], [6, 8]]]);
    expect(matmul(zeros([3, 1, 2, 4]), zeros([5, 4, 6])).shape).toEqual([3, 5, 2, 6]);
    expect(matmul(zeros([2, 3, 4]), zeros([4])).shape).toEqual([2, 3]);
    expect(matmul(zeros([0, 4]), zeros([4, 2])).shape).toEqual([0, 2]);
    expect(matmul(zeros([2, 0]), zeros([0, 3])).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });
  it('errors', () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow('Kiln: matmul: inner dimensions differ: [2,3] @ [4,5]');
    expect(() => matmul(tensor(1), zeros([1]))).toThrow(/matmul: both operands need at least 1 dim/);
    expect(() => matmul(tensor([1], { dtype: 'int32' }), tensor([1], { dtype: 'int32' }))).toThrow(/matmul: expected floating/);
  });
  describe('gradchecks (both arguments)', () => {
    it('2-D', () => checkGrad(matmul, [randomInput([2, 3], 51), randomInput([3, 4], 52)]));
    it('1-D left and right', () => {
      checkGrad(matmul, [randomInput([3], 53), randomInput([3, 2], 54)]);
      checkGrad(matmul, [randomInput([2, 3], 55), randomInput([3], 56)]);
      checkGrad(matmul, [randomInput([3], 57), randomInput([3], 58)]);
    });
    it('broadcast batch dims', () => {
      checkGrad(matmul, [randomInput([2, 1, 2, 3], 59), randomInput([3, 3, 2], 60)]);
      checkGrad(matmul, [randomInput([2, 2, 3], 61), randomInput([3, 2], 62)]);
      checkGrad(matmul, [randomInput([3], 63), randomInput([2, 3, 2], 64)]);
    });
  });
});
