import { describe, it, expect } from 'vitest';
import { tensor } from '@kiln/tensor';
import { Standardizer, normalize } from './index.js';

describe('Standardizer', () => {
  it('fits per feature on train and applies the same statistics to dev', () => {
    const train = tensor([[1, 10], [3, 30]]);
    const { scaler, train: t, others: [dev] } = normalize(train, tensor([[2, 50]]));
    expect(Array.from(scaler.mean!)).toEqual([2, 20]);
    expect(Array.from(scaler.std!)).toEqual([1, 10]);
    expect(Array.from(t.dataSync())).toEqual([-1, -1, 1, 1]);
    // dev is transformed with train's statistics, not its own (which would give zeros).
    expect(Array.from(dev!.dataSync())).toEqual([0, 3]);
  });
  it('works per channel on NCHW', () => {
    const x = tensor(Float32Array.from([0, 2, 0, 2, 10, 10, 10, 10]), { shape: [1, 2, 2, 2] });
    const s = new Standardizer().fit(x);
    expect(Array.from(s.mean!)).toEqual([1, 10]);
    expect(Array.from(s.std!)).toEqual([1, 0]);
    expect(Array.from(s.transform(x).dataSync()).slice(0, 4)).toEqual([-1, 1, -1, 1]);
  });
  it('complains before fit and on a feature mismatch', () => {
    expect(() => new Standardizer().transform(tensor([[1]]))).toThrow(/fit/);
    expect(() => new Standardizer().fit(tensor([[1, 2]])).transform(tensor([[1]]))).toThrow(/fitted on 2/);
    expect(() => new Standardizer(-1)).toThrow(/^Kiln: Standardizer: eps must be a finite number >= 0, got -1$/);
  });
  it('keeps float64 precision', () => {
    const x = tensor(Float64Array.from([0.1, 0.2, 0.3, 0.4]), { shape: [4, 1], dtype: 'float64' });
    const y = new Standardizer(0).fitTransform(x);
    expect(y.dtype).toBe('float64');
    // float64 arithmetic throughout; float32 storage (as before) is off by about 1e-8
    const d = Array.from(x.dataSync()), m = d.reduce((a, v) => a + v, 0) / 4;
    const sd = Math.sqrt(d.reduce((a, v) => a + v * v, 0) / 4 - m * m);
    Array.from(y.dataSync()).forEach((v, i) => expect(Math.abs(v - (d[i]! - m) / sd)).toBeLessThan(1e-12));
  });
});
