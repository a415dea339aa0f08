/** linear (x·Wᵀ + b): hand values, shapes, promotion, errors, gradchecks, and which grads it computes. */
import { describe, expect, it } from 'vitest';
import { linear, matmul, randn, manualSeed, tensor, zeros } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

forEachBackend('linear', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  const w = tensor([[1, 0, 1], [0, 1, 0]]); // [out 2, in 3]
  const b = tensor([10, 20]);
  it('computes x·Wᵀ + b with and without bias', () => {
    expect(linear(x, w, b).toArray()).toEqual([[14, 22], [20, 25]]);
    expect(linear(x, w).toArray()).toEqual([[4, 2], [10, 5]]);
  });
  it('takes any number of leading dims, 1-D input and empty batches', () => {
    manualSeed(1);
    const x3 = randn([2, 3, 5]);
    const w3 = randn([4, 5]);
    const b3 = randn([4]);
    expectClose(linear(x3, w3, b3), matmul(x3, w3.t()).add(b3), { atol: 1e-5 });
    expect(linear(tensor([1, 2, 3]), w, b).toArray()).toEqual([14, 22]);
    expect(linear(zeros([0, 3]), w, b).shape).toEqual([0, 2]);
    // No input features: the output is the bias alone.
    expect(linear(zeros([2, 0]), zeros([2, 0]), b).toArray()).toEqual([[10, 20], [10, 20]]);
  });
  it('matches matmul on shapes large enough for the fast GEMM', () => {
    manualSeed(2);
    const xa = randn([64, 100]);
    const wa = randn([70, 100]);
    const ba = randn([70]);
    expectClose(linear(xa, wa, ba), matmul(xa, wa.t()).add(ba), { atol: 1e-4, rtol: 1e-4 });
  });
  it('promotes to the widest floating dtype', () => {
    expect(linear(x.to('float64'), w, b).dtype).toBe('float64');
  });
  it('errors name the op and the shapes', () => {
    expect(() => linear(zeros([2, 4]), w, b)).toThrow("Kiln: linear: x's last dim must equal weight's in-features 3, got x [2,4] and weight [2,3]");
    expect(() => linear(x, zeros([2, 3, 1]))).toThrow('Kiln: linear: weight must be 2-D [out, in], got [2,3,1]');
    expect(() => linear(x, w, zeros([3]))).toThrow('Kiln: linear: bias must have shape [2], got [3]');
    expect(() => linear(tensor([[1, 2, 3]], { dtype: 'int32' }), tensor([[1, 2, 3]], { dtype: 'int32' }))).toThrow(/linear: expected floating tensors/);
  });
  describe('gradchecks (every argument)', () => {
    it('with bias', () => checkGrad((a, c, d) => linear(a, c, d), [randomInput([3, 4], 71), randomInput([2, 4], 72), randomInput([2], 73)]));
    it('without bias, 3-D input', () => checkGrad((a, c) => linear(a, c), [randomInput([2, 3, 4], 74), randomInput([5, 4], 75)]));
    it('1-D input', () => checkGrad((a, c, d) => linear(a, c, d), [randomInput([4], 76), randomInput([3, 4], 77), randomInput([3], 78)]));
  });
  it('computes only the gradients that are wanted', () => {
    const xi = randomInput([3, 4], 79).detach(); // data: no grad
    const wi = randomInput([2, 4], 80);
    const bi = randomInput([2], 81).detach();
    linear(xi, wi, bi).sum().backward();
    expect(xi.grad).toBeNull();
    expect(bi.grad).toBeNull();
    expectClose(wi.grad!, tensor([[1, 1], [1, 1], [1, 1]], { dtype: 'float64' }).t().matmul(xi));
  });
});
