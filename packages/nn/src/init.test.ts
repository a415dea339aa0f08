import { describe, expect, it } from 'vitest';
import { Generator, zeros } from '@kiln/tensor';
import {
  calculateGain, constant_, kaimingNormal_, kaimingUniform_, normal_, ones_, orthogonal_, uniform_, xavierNormal_, xavierUniform_, zeros_,
} from './index.js';

const stats = (d: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < d.length; i++) m += d[i]!;
  m /= d.length;
  let v = 0;
  for (let i = 0; i < d.length; i++) v += (d[i]! - m) ** 2;
  return { mean: m, std: Math.sqrt(v / d.length), max: Math.max(...Array.from(d, Math.abs)) };
};

describe('init', () => {
  it('gains', () => {
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(2 / 6), 12);
  });
  it('constant fills', () => {
    expect(zeros_(zeros([2]).add(3)).toArray()).toEqual([0, 0]);
    expect(ones_(zeros([2])).toArray()).toEqual([1, 1]);
    expect(constant_(zeros([2]), 0.5).toArray()).toEqual([0.5, 0.5]);
  });
  it('distributions have the documented bounds/std', () => {
    const g = new Generator(1);
    const w = zeros([200, 100], { dtype: 'float64' });
    expect(stats(uniform_(w, -2, 2, g).dataSync()).max).toBeLessThanOrEqual(2);
    expect(stats(normal_(w, 1, 3, g).dataSync()).std).toBeCloseTo(3, 1);
    expect(stats(xavierUniform_(w, 1, g).dataSync()).max).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(stats(xavierNormal_(w, 1, g).dataSync()).std).toBeCloseTo(Math.sqrt(2 / 300), 2);
    expect(stats(kaimingNormal_(w, { nonlinearity: 'relu', generator: g }).dataSync()).std).toBeCloseTo(Math.sqrt(2 / 100), 2);
    expect(stats(kaimingNormal_(w, { nonlinearity: 'relu', mode: 'fanOut', generator: g }).dataSync()).std).toBeCloseTo(Math.sqrt(2 / 200), 2);
    const s = stats(kaimingUniform_(w, { nonlinearity: 'relu', generator: g }).dataSync());
    expect(s.max).toBeLessThanOrEqual(Math.sqrt(6 / 100));
    expect(s.max).toBeGreaterThan(Math.sqrt(6 / 100) * 0.99);
  });
  it('same seed, same weights', () => {
    const a = xavierUniform_(zeros([3, 4]), 1, new Generator(7)).toArray();
    expect(xavierUniform_(zeros([3, 4]), 1, new Generator(7)).toArray()).toEqual(a);
  });
  it('orthogonal_ gives orthonormal rows/columns', () => {
    for (const shape of [[4, 3], [3, 5]] as const) {
      const q = orthogonal_(zeros([...shape], { dtype: 'float64' }), 1, new Generator(2));
      const small = shape[0] < shape[1] ? q.matmul(q.t()) : q.t().matmul(q);
      const n = Math.min(...shape);
      const d = small.dataSync();
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(d[i * n + j]).toBeCloseTo(i === j ? 1 : 0, 10);
    }
  });
  it('errors', () => {
    expect(() => xavierUniform_(zeros([3]))).toThrow(/at least 2 dims, got shape \[3\]/);
    // NaN parameters used to fill the tensor with NaN
    expect(() => normal_(zeros([4]), Number.NaN, 1)).toThrow(/^Kiln: normal_: mean must be a finite number, got NaN$/);
    expect(() => normal_(zeros([4]), 0, Infinity)).toThrow(/^Kiln: normal_: std must be a finite number >= 0, got Infinity$/);
    expect(() => uniform_(zeros([4]), -Infinity, 0)).toThrow(/^Kiln: uniform_: need finite low <= high, got -Infinity, 0$/);
    expect(() => orthogonal_(zeros([3, 3]), Number.NaN)).toThrow(/^Kiln: orthogonal_: gain must be a finite number, got NaN$/);
    expect(() => calculateGain('leaky_relu', Number.NaN)).toThrow(/^Kiln: calculateGain: the leaky_relu slope must be a finite number, got NaN$/);
    // PyTorch's spelling 'fan_in' used to be taken as fanOut; now every option is checked
    expect(() => kaimingUniform_(zeros([4, 8]), { mode: 'fan_in' } as never)).toThrow(/Kiln: kaimingUniform_: option 'mode' must be one of 'fanIn', 'fanOut', got 'fan_in'/);
    expect(() => kaimingNormal_(zeros([4, 8]), { nonlinearity: 'gelu' } as never)).toThrow(/Kiln: kaimingNormal_: option 'nonlinearity' must be one of 'linear', .*got 'gelu'/);
    expect(() => kaimingNormal_(zeros([4, 8]), { negativeSlope: 0.2 } as never)).toThrow(/Kiln: kaimingNormal_: unknown option 'negativeSlope' \(known: a, mode, nonlinearity, generator\)/);
    expect(() => kaimingUniform_(zeros([4, 8]), { generator: 1 } as never)).toThrow(/Kiln: kaimingUniform_: option 'generator' must be a Generator, got 1/);
  });
});
