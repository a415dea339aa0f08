import { describe, expect, it } from 'vitest';
import { Generator, ones, tensor, type Tensor } from '@kiln/tensor';
import { expectClose } from '@kiln/tensor/testing';
import { gradcheckModule, Hardsigmoid, Hardswish, ReLU6, SiLU, StochasticDepth, stochasticDepth } from '../index.js';

const f64 = (data: number[], shape: number[]) => tensor(Float64Array.from(data), { shape });

describe('ReLU6, Hardsigmoid, Hardswish, SiLU', () => {
  const xs = [-4, -1.5, 0.5, 2, 7];
  const hs = (v: number) => Math.min(Math.max(v + 3, 0), 6) / 6;
  it('forward values', () => {
    const x = f64(xs, [1, 5]);
    expectClose(new ReLU6().forward(x), [xs.map((v) => Math.min(Math.max(v, 0), 6))]);
    expectClose(new Hardsigmoid().forward(x), [xs.map(hs)]);
    expectClose(new Hardswish({ inplace: true }).forward(x), [xs.map((v) => v * hs(v))]);
    expectClose(new SiLU().forward(x), [xs.map((v) => v / (1 + Math.exp(-v)))]);
  });
  it('gradcheck in float64', () => {
    for (const m of [new ReLU6(), new Hardsigmoid(), new Hardswish(), new SiLU()]) {
      const r = gradcheckModule(m, [f64([-4.2, -2.1, -0.7, 0.4, 2.2, 5.1, 6.6, 1.3], [2, 4]).requiresGrad_()], (y) => y.mul(f64([1, 2, 3, -1, 0.5, 2, 1, -2], [2, 4])).sum());
      expect(r.ok, `${m.constructor.name}: ${JSON.stringify(r)}`).toBe(true);
    }
  });
  it('no parameters or state-dict keys', () => {
    for (const m of [new ReLU6(), new Hardsigmoid(), new Hardswish(), new SiLU()]) expect(Object.keys(m.stateDict())).toEqual([]);
  });
  it('validates options', () => {
    expect(() => new ReLU6({ inPlace: true } as never)).toThrow(/Kiln: ReLU6: unknown option 'inPlace' \(known: inplace\)/);
    expect(() => new SiLU({ inplace: 1 } as never)).toThrow(/Kiln: SiLU: option 'inplace' must be a boolean, got 1/);
    expect(() => new Hardswish(true as never)).toThrow(/Kiln: Hardswish: options must be an object/);
  });
});

describe('StochasticDepth', () => {
  const x = ones([200, 3, 2], { dtype: 'float64' });
  const rowKept = (y: Tensor) => {
    const d = y.dataSync();
    const kept: number[] = [];
    for (let i = 0; i < 200; i++) {
      const row = Array.from(d.slice(i * 6, (i + 1) * 6), Number);
      expect(new Set(row).size, 'one decision per row').toBe(1);
      kept.push(row[0]!);
    }
    return kept;
  };
  it("'row' drops whole samples with probability p and scales survivors by 1/(1−p)", () => {
    const kept = rowKept(stochasticDepth(x, 0.25, 'row', true, { generator: new Generator(3) }));
    for (const v of kept) expect([0, 1 / 0.75]).toContainEqual(v);
    const dropped = kept.filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(30);
    expect(dropped).toBeLessThan(70);
  });
  it('checks its options (a misspelt generator used to be ignored)', () => {
    expect(() => stochasticDepth(x, 0.5, 'row', true, { gen: new Generator(1) } as never)).toThrow(/^Kiln: stochasticDepth: unknown option 'gen' \(known: generator\)$/);
    expect(() => stochasticDepth(x, 0.5, 'row', true, { generator: 3 } as never)).toThrow(/^Kiln: stochasticDepth: option 'generator' must be a Generator, got 3$/);
  });
  it("'batch' keeps or drops the whole batch", () => {
    const outs = Array.from({ length: 40 }, (_, s) => stochasticDepth(x, 0.5, 'batch', true, { generator: new Generator(s + 1) }));
    for (const y of outs) expect(new Set(Array.from(y.dataSync(), Number)).size).toBe(1);
    const zeros = outs.filter((y) => y.dataSync()[0] === 0).length;
    expect(zeros).toBeGreaterThan(8);
    expect(zeros).toBeLessThan(32);
  });
  it('identity in eval or with p = 0; zeros with p = 1; same generator seed, same mask', () => {
    const m = new StochasticDepth(0.9, 'row');
    expect(m.eval().forward(x)).toBe(x);
    expect(stochasticDepth(x, 0, 'row', true)).toBe(x);
    expectClose(stochasticDepth(x, 1, 'batch', true), x.mul(0));
    const a = stochasticDepth(x, 0.5, 'row', true, { generator: new Generator(9) });
    const b = new StochasticDepth(0.5, 'row', new Generator(9)).forward(x);
    expectClose(b, a);
    expect(m.toString()).toContain('p=0.9, mode=row');
  });
  it('gradient is the mask', () => {
    const xi = x.clone().requiresGrad_();
    const y = stochasticDepth(xi, 0.5, 'row', true, { generator: new Generator(4) });
    y.sum().backward();
    expectClose(xi.grad!, y.detach());
  });
  it('bad p or mode names the function', () => {
    expect(() => new StochasticDepth(1.5, 'row')).toThrow(/Kiln: StochasticDepth: p must be a number in \[0, 1\], got 1.5/);
    expect(() => new StochasticDepth(0.2, 'col' as never)).toThrow(/Kiln: StochasticDepth: mode must be 'row' or 'batch', got "col"/);
    expect(() => stochasticDepth(x, -0.1, 'row')).toThrow(/Kiln: stochasticDepth: p must be/);
  });
});
