/** Creation functions, seeded randomness and dropout. */
import { describe, expect, it } from 'vitest';
import {
  arange, dropout, randLike, randnLike, dropoutMask, eye, full, fullLike, Generator, linspace, manualSeed, normal, ones, onesLike, rand, randint,
  randn, randperm, tensor, uniform, zeros, zerosLike,
} from './index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from './test-utils/index.js';

forEachBackend('creation', () => {
  it('tensor from nested arrays, booleans, typed arrays and scalars', () => {
    const t = tensor([[1, 2], [3, 4]]);
    expect(t.shape).toEqual([2, 2]);
    expect(t.dtype).toBe('float32');
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(tensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] }).dtype).toBe('int32');
    expect(tensor(3).shape).toEqual([]);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([1.9, -1.9], { dtype: 'int32' }).toArray()).toEqual([1, -1]);
    const src = new Float64Array([1, 2]);
    const c = tensor(src);
    src[0] = 9;
    expect(c.toArray()).toEqual([1, 2]); // copied
    expect(tensor([1], { requiresGrad: true }).requiresGrad).toBe(true);
  });
  it('tensor lays an array out in the shape option, as a typed array', () => {
    expect(tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] }).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor([[1, 2], [3, 4]], { shape: [4] }).toArray()).toEqual([1, 2, 3, 4]);
    expect(tensor([true, false], { shape: [2, 1] }).dtype).toBe('bool');
  });
  it('tensor rejects ragged arrays, bad shapes, unknown dtypes and integer requiresGrad', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array at \[1\]: expected length 2, got 1/);
    expect(() => tensor(new Float32Array(3), { shape: [2, 2] })).toThrow(/tensor: 3 values do not fit shape \[2,2\]/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/tensor: 3 values \(an array of shape \[3\]\) do not fit shape \[2,2\]/);
    expect(() => tensor([1], { dtype: 'float16' as never })).toThrow(/tensor: unknown dtype 'float16'/);
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(/only floating tensors can require gradients/);
    expect(() => tensor(['a'] as never)).toThrow(/tensor: expected a number at \[0\]/);
  });
  it('zeros, ones, full, *Like, eye', () => {
    expect(zeros([2, 0]).shape).toEqual([2, 0]);
    expect(ones(2).toArray()).toEqual([1, 1]);
    expect(full([2], 7, { dtype: 'int32' }).toArray()).toEqual([7, 7]);
    expect(full([1], 3, { dtype: 'bool' }).toArray()).toEqual([true]);
    const t = tensor([1, 2], { dtype: 'float64' });
    expect(zerosLike(t).dtype).toBe('float64');
    expect(onesLike(t).toArray()).toEqual([1, 1]);
    expect(fullLike(t, 5).toArray()).toEqual([5, 5]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(() => zeros([2, -1])).toThrow(/zeros|full/);
  });
  it('arange and linspace', () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(4).dtype).toBe('int32');
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(1, 2, 0.25).dtype).toBe('float32');
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(arange(3, 1).toArray()).toEqual([]);
    expect(() => arange(0, 1, 0)).toThrow(/arange: step must be a finite non-zero number, got 0/);
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(2, 2, 1).toArray()).toEqual([2]);
    expect(linspace(0, 1, 0).shape).toEqual([0]);
    expect(linspace(0, 0.3, 7, { dtype: 'float64' }).dataSync()[6]).toBe(0.3);
    expect(() => linspace(0, 1, -1)).toThrow(/linspace: steps must be a non-negative integer/);
  });
});

describe('random', () => {
  it('manualSeed makes every draw reproducible', () => {
    manualSeed(42);
    const a = [rand([5]), randn([5]), randint(0, 10, [5]), randperm(6), uniform([3], -2, 2), normal([3], 5, 0.1)];
    manualSeed(42);
    const b = [rand([5]), randn([5]), randint(0, 10, [5]), randperm(6), uniform([3], -2, 2), normal([3], 5, 0.1)];
    a.forEach((t, i) => expect(t.toArray()).toEqual(b[i]!.toArray()));
    manualSeed(43);
    expect(rand([5]).toArray()).not.toEqual(a[0]!.toArray());
  });
  it('randLike/randnLike take the shape and dtype of their argument', () => {
    const t = zeros([2, 3], { dtype: 'float64' });
    manualSeed(5);
    const a = randLike(t);
    const b = randnLike(t);
    expect(a.shape).toEqual([2, 3]);
    expect(b.dtype).toBe('float64');
    manualSeed(5);
    expect(rand([2, 3], { dtype: 'float64' }).toArray()).toEqual(a.toArray());
  });
  it('a Generator is independent of the global stream', () => {
    const g1 = new Generator(7);
    const x = rand([4], { generator: g1 });
    manualSeed(0);
    rand([100]);
    const g2 = new Generator(7);
    expect(rand([4], { generator: g2 }).toArray()).toEqual(x.toArray());
  });
  it('fixed values for seed 0 (xoshiro128** + splitmix32: identical on every runtime)', () => {
    const g = new Generator(0);
    const first = [g.nextUint32(), g.nextUint32()];
    const h = new Generator(0);
    expect([h.nextUint32(), h.nextUint32()]).toEqual(first);
    expect(first.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)).toBe(true);
  });
  it('distributions have the right range and moments', () => {
    const g = new Generator(1);
    const u = rand([20000], { generator: g, dtype: 'float64' });
    const ud = u.dataSync();
    expect(Math.min(...ud)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ud)).toBeLessThan(1);
    expect(Math.abs(u.mean().item() - 0.5)).toBeLessThan(0.01);
    const n = randn([20000], { generator: g, dtype: 'float64' });
    expect(Math.abs(n.mean().item())).toBeLessThan(0.03);
    expect(Math.abs(n.std().item() - 1)).toBeLessThan(0.03);
    const k = randint(-2, 3, [2000], { generator: g }).dataSync();
    expect(Math.min(...k)).toBe(-2);
    expect(Math.max(...k)).toBe(2);
    const p = [...randperm(10, { generator: g }).dataSync()].sort((a, b) => a - b);
    expect(p).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => randint(3, 3, [1])).toThrow(/randint: expected integers low < high, got 3, 3/);
    expect(() => manualSeed(NaN)).toThrow(/manualSeed: seed must be a finite number/);
  });
});

forEachBackend('dropout', () => {
  it('dropoutMask is 0 or 1/(1-p) and keeps the expectation', () => {
    const m = dropoutMask([20000], 0.25, { generator: new Generator(3), dtype: 'float64' });
    const values = new Set(m.dataSync());
    expect([...values].sort()).toEqual([0, 4 / 3]);
    expect(Math.abs(m.mean().item() - 1)).toBeLessThan(0.02);
    expect(() => dropoutMask([2], 1)).toThrow(/dropoutMask: p must be in \[0, 1\), got 1/);
  });
  it('dropout: identity when not training or p = 0, zeros when p = 1, expectation kept', () => {
    const x = ones([10000], { dtype: 'float64' });
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0)).toBe(x);
    expect(dropout(x, 1).sum().item()).toBe(0);
    const y = dropout(x, 0.5, true, { generator: new Generator(4) });
    expectClose(y.mean(), 1, { atol: 0.05 });
    expect(() => dropout(x, 1.5)).toThrow(/dropout: p must be in \[0, 1\], got 1.5/);
  });
  it('dropout gradient is the mask (gradcheck with a fixed generator)', () => {
    const x = randomInput([3, 4], 91);
    checkGrad((t) => dropout(t, 0.5, true, { generator: new Generator(5) }), [x]);
  });
});
