import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, noGrad, randn, stack, Tensor } from '@kiln/tensor';
import { checkGrad, expectClose, randomInput } from '@kiln/tensor/testing';
import { binaryCrossEntropyWithLogits, mseLoss, type Module } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { ManyToMany, ManyToOne, OneToMany, Seq2Seq } from '../index.js';

manualSeed(2);
const f64 = { dtype: 'float64' as const };

/** gradcheck through the inputs and every parameter of `m` (parameters swapped in by name). */
function gradcheckModule(m: Module, inputs: Tensor[], run: (...xs: Tensor[]) => Tensor): void {
  const named = m.namedParameters();
  const set = (path: string, t: Tensor) => {
    const parts = path.split('.');
    let o = m as unknown as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
    o[parts[parts.length - 1]!] = t;
  };
  checkGrad((...xs: Tensor[]) => {
    named.forEach(([k], i) => set(k, xs[inputs.length + i]!));
    const y = run(...xs.slice(0, inputs.length));
    return y.mul(y.add(0.5)).sum();
  }, [...inputs, ...named.map(([, p]) => p.detach().requiresGrad_())]);
}

function train(m: Module, steps: number, lossFn: () => Tensor): [number, number] {
  const opt = new Adam(m.parameters(), { lr: 0.03 });
  let first = 0;
  let last = 0;
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const loss = lossFn();
    loss.backward();
    opt.step();
    if (s === 0) first = loss.item();
    last = loss.item();
  }
  return [first, last];
}

describe('sequence blocks (course 5.1.3.3)', () => {
  it('ManyToOne reads each sequence to its own end and gradchecks', () => {
    const m = new ManyToOne(2, 3, { cell: 'gru', hiddenSize: 4, bidirectional: true, ...f64 });
    const x = randomInput([5, 3, 2], 1);
    const lens = [5, 2, 3];
    const y = m.forward(x, lens);
    expect(y.shape).toEqual([3, 3]);
    lens.forEach((l, b) => {
      const alone = m.forward(x.detach().narrow(1, b, 1).narrow(0, 0, l));
      expectClose(y.narrow(0, b, 1), alone, { atol: 1e-12 });
    });
    gradcheckModule(m, [randomInput([4, 2, 2], 2)], (xi) => m.forward(xi, [4, 2]));
  });

  it('ManyToOne learns a whole-sequence rule (label = sign of the sum of 10 steps)', () => {
    const g = new Generator(5);
    const m = new ManyToOne(1, 1, { cell: 'lstm', hiddenSize: 8, generator: g });
    const x = randn([10, 64, 1], { generator: g });
    const label = x.sum(0).gt(0).float();
    const [first, last] = train(m, 80, () => binaryCrossEntropyWithLogits(m.forward(x), label));
    const acc = noGrad(() => m.forward(x).gt(0).float().eq(label).float().mean().item());
    expect(last).toBeLessThan(first * 0.5);
    expect(acc).toBeGreaterThan(0.9);
  });

  it('ManyToMany gives one output per step and learns y⟨t⟩ = x⟨t⟩ + x⟨t−1⟩', () => {
    const g = new Generator(6);
    const m = new ManyToMany(1, 1, { cell: 'gru', hiddenSize: 8, generator: g });
    const x = randn([6, 32, 1], { generator: g });
    const prev = stack([x.narrow(0, 0, 1).mul(0).squeeze(0), ...Array.from({ length: 5 }, (_, t) => x.narrow(0, t, 1).squeeze(0))], 0);
    const target = x.add(prev);
    expect(m.forward(x).shape).toEqual([6, 32, 1]);
    const [first, last] = train(m, 120, () => mseLoss(m.forward(x), target));
    expect(last).toBeLessThan(first * 0.2);
    const small = new ManyToMany(2, 2, { cell: 'rnn', hiddenSize: 3, bidirectional: true, ...f64 });
    gradcheckModule(small, [randomInput([3, 2, 2], 3)], (xi) => small.forward(xi!, [3, 2]));
  });

  it('Seq2Seq: source and target lengths differ; generation is the teacher-forced model fed its own outputs', () => {
    const m = new Seq2Seq(2, 3, { cell: 'lstm', hiddenSize: 3, numLayers: 2, ...f64 });
    const src = randomInput([6, 2, 2], 4).detach();
    const gen = m.generate(src, 4, [6, 3]);
    expect(gen.shape).toEqual([4, 2, 3]);
    expectClose(noGrad(() => m.forward(src, gen, [6, 3])), gen, { atol: 1e-12 });
    gradcheckModule(m, [randomInput([4, 2, 2], 5), randomInput([3, 2, 3], 6)], (s, t) => m.forward(s!, t!, [4, 2]));
  });

  it('Seq2Seq learns to write the mean of a 5-step source for 3 steps', () => {
    const g = new Generator(7);
    const m = new Seq2Seq(1, 1, { cell: 'gru', hiddenSize: 8, generator: g });
    const src = randn([5, 32, 1], { generator: g });
    const target = src.mean(0, true).expand([3, 32, 1]);
    const [first, last] = train(m, 100, () => mseLoss(m.forward(src, target), target));
    expect(last).toBeLessThan(first * 0.2);
  });

  it('OneToMany generates from one vector; teacher forcing on its own output reproduces it; it learns a decay', () => {
    const m = new OneToMany(2, 2, { cell: 'gru', hiddenSize: 4, ...f64 });
    const x = randomInput([3, 2], 7).detach();
    const gen = m.generate(x, 5);
    expect(gen.shape).toEqual([5, 3, 2]);
    expectClose(noGrad(() => m.forward(x, gen)), gen, { atol: 1e-12 });
    gradcheckModule(m, [randomInput([2, 2], 8), randomInput([3, 2, 2], 9)], (xi, t) => m.forward(xi!, t!));

    const g = new Generator(8);
    const lstm = new OneToMany(1, 1, { cell: 'lstm', hiddenSize: 8, generator: g });
    const x0 = randn([32, 1], { generator: g });
    const target = stack([0, 1, 2, 3].map((t) => x0.mul(0.5 ** t)), 0);
    const [first, last] = train(lstm, 100, () => mseLoss(lstm.forward(x0, target), target));
    expect(last).toBeLessThan(first * 0.2);
  });

  it('bad options are clear errors', () => {
    expect(() => new Seq2Seq(2, 2, { hiddenSize: 3, bidirectional: true })).toThrow(/Seq2Seq: bidirectional must be false/);
    expect(() => new ManyToOne(2, 2, { hiddenSize: 3, cell: 'elman' as never })).toThrow("Kiln: ManyToOne: option 'cell' must be one of 'rnn', 'gru', 'lstm', got 'elman'");
    expect(() => new OneToMany(2, 2, { hiddenSize: 3 }).generate(randn([3, 4]), 2)).toThrow(/OneToMany: x must be \[B, 2\], got \[3,4\]/);
  });
});
