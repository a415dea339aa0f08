import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { tensor } from '@kiln/tensor';
import { Adagrad, type AdagradOptions } from './index.js';

interface Fixture {
  w0: number[];
  grads: number[][];
  cases: { options: Record<string, number>; trajectory: number[][]; sum: number[] }[];
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/adagrad.json', import.meta.url), 'utf8')) as Fixture;

const NAMES: Record<string, keyof AdagradOptions> = {
  lr: 'lr', lr_decay: 'lrDecay', weight_decay: 'weightDecay', initial_accumulator_value: 'initialAccumulatorValue', eps: 'eps',
};

describe('Adagrad (PyTorch 1.13 goldens, fixtures/adagrad.json)', () => {
  for (const c of fx.cases) {
    it(`matches torch.optim.Adagrad(${JSON.stringify(c.options)}) over ${fx.grads.length} steps`, () => {
      const options: AdagradOptions = {};
      for (const [k, v] of Object.entries(c.options)) options[NAMES[k]!] = v;
      const p = tensor(Float64Array.from(fx.w0), { requiresGrad: true });
      const opt = new Adagrad([p], options);
      fx.grads.forEach((g, s) => {
        p.grad = tensor(Float64Array.from(g));
        opt.step();
        Array.from(p.dataSync()).forEach((v, i) => expect(Math.abs(v - c.trajectory[s]![i]!), `step ${s} elem ${i}`).toBeLessThan(1e-13));
      });
      const sum = opt.state.get(p)!.sum as Float64Array;
      Array.from(sum).forEach((v, i) => expect(v).toBeCloseTo(c.sum[i]!, 12));
    });
  }

  it('hand value: the first step moves each weight by lr·sign(g) (with s0 = 0, eps tiny)', () => {
    const p = tensor(Float64Array.from([1, 1]), { requiresGrad: true });
    const opt = new Adagrad([p], { lr: 0.5 });
    p.grad = tensor(Float64Array.from([3, -0.01]));
    opt.step();
    const [a, b] = Array.from(p.dataSync());
    expect(a).toBeCloseTo(0.5, 7);
    expect(b).toBeCloseTo(1.5, 7);
  });

  it('state survives stateDict/loadStateDict (same next step as an uninterrupted run)', () => {
    const mk = () => tensor(Float64Array.from(fx.w0), { requiresGrad: true });
    const a = mk(), b = mk();
    const oa = new Adagrad([a], { lr: 0.1, lrDecay: 0.2 }), ob = new Adagrad([b], { lr: 0.1, lrDecay: 0.2 });
    for (const p of [a, b]) p.grad = tensor(Float64Array.from(fx.grads[0]!));
    oa.step(); ob.step();
    const ob2 = new Adagrad([b], { lr: 0.1, lrDecay: 0.2 });
    ob2.loadStateDict(JSON.parse(JSON.stringify(ob.stateDict())));
    for (const p of [a, b]) p.grad = tensor(Float64Array.from(fx.grads[1]!));
    oa.step(); ob2.step();
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  });

  it('bad options are errors naming Adagrad and the option', () => {
    const p = tensor(Float64Array.from([1]), { requiresGrad: true });
    expect(() => new Adagrad([p], { lr: -1 })).toThrow(/Kiln: Adagrad: lr must be/);
    expect(() => new Adagrad([p], { eps: -1 })).toThrow(/Kiln: Adagrad: eps must be a number >= 0, got -1/);
    expect(() => new Adagrad([p], { lrDecay: Number.NaN })).toThrow(/lrDecay/);
    expect(() => new Adagrad([p], { momentum: 0.9 } as never)).toThrow(/unknown option 'momentum'/);
  });
});
