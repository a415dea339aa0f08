import { describe, expect, it } from 'vitest';
import { tensor } from '@kiln/tensor';
import {
  clipGradNorm, clipGradValue, cosineAnnealing, exponentialDecay, inverseSqrtEpoch, inverseSqrtStep, inverseTimeDecay, linearWarmup,
  LRScheduler, SGD, setLr, stepDecay,
} from './index.js';

describe('schedules', () => {
  it('hand values', () => {
    expect(inverseTimeDecay(0.2, 1)(3)).toBeCloseTo(0.05, 14);
    expect(exponentialDecay(0.1, 0.95)(2)).toBeCloseTo(0.1 * 0.9025, 14);
    expect(inverseSqrtEpoch(0.3)(3)).toBeCloseTo(0.15, 14); // epoch 4 → k/2
    expect(inverseSqrtStep(1)(8)).toBeCloseTo(1 / 3, 14);
    expect([0, 1, 2, 3, 4, 5].map(stepDecay(1, 2, 0.5))).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
    const cos = cosineAnnealing(1, 4, 0.1);
    expect(cos(0)).toBeCloseTo(1, 14);
    expect(cos(2)).toBeCloseTo(0.55, 14);
    expect(cos(4)).toBeCloseTo(0.1, 14);
    expect(cos(9)).toBeCloseTo(0.1, 14);
    const w = linearWarmup(exponentialDecay(1, 0.5), 4);
    expect([0, 1, 2, 3, 4, 5].map(w)).toEqual([0, 0.25, 0.5, 0.75, 1, 0.5]);
  });
  it('match their defining formulas over many steps', () => {
    for (let e = 0; e < 30; e++) {
      expect(inverseTimeDecay(0.5, 0.3)(e)).toBeCloseTo(0.5 / (1 + 0.3 * e), 14);
      expect(stepDecay(0.5, 7, 0.3)(e)).toBeCloseTo(0.5 * 0.3 ** Math.floor(e / 7), 14);
      expect(cosineAnnealing(0.5, 30, 0)(e)).toBeCloseTo(0.25 * (1 + Math.cos((Math.PI * e) / 30)), 14);
    }
  });
  it('LRScheduler drives group lrs keeping their ratios; manual setter', () => {
    const a = tensor([1], { requiresGrad: true }), b = tensor([1], { requiresGrad: true });
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.2 }], { lr: 0.1 });
    const s = new LRScheduler(opt, exponentialDecay(0.1, 0.5));
    expect(s.getLastLr()).toEqual([0.1, 0.2]);
    s.step();
    expect(s.getLastLr()[0]).toBeCloseTo(0.05, 14);
    expect(s.getLastLr()[1]).toBeCloseTo(0.1, 14);
    s.setLr(0.3, 1);
    expect(opt.paramGroups[1]!.lr).toBe(0.3);
    setLr(opt, 0.01);
    expect(s.getLastLr()).toEqual([0.01, 0.01]);
    const s2 = new LRScheduler(opt, exponentialDecay(0.1, 0.5));
    s2.loadStateDict({ lastStep: 2 });
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.025, 14);
    expect(() => s2.loadStateDict({} as never)).toThrow(/^Kiln: LRScheduler\.loadStateDict: lastStep must be a non-negative integer, got undefined/);
    expect(() => s2.loadStateDict({ lastStep: 1.5 })).toThrow(/^Kiln: LRScheduler\.loadStateDict: lastStep must be a non-negative integer, got 1\.5/);
    expect(() => new LRScheduler(exponentialDecay(0.1, 0.5) as never, exponentialDecay(0.1, 0.5))).toThrow(/^Kiln: LRScheduler: optimizer must be an Optimizer \(e\.g\. new SGD\(model\.parameters\(\), \{ lr \}\)\), got a function$/);
    expect(() => new LRScheduler(opt, 0.1 as never)).toThrow(/^Kiln: LRScheduler: schedule must be a function \(step\) => lr, got 0\.1 \(use constant\(0\.1\)\)/);
  });
});

describe('gradient clipping', () => {
  it('clipGradNorm scales jointly and returns the norm', () => {
    const a = tensor([1], { requiresGrad: true }), b = tensor([1, 1], { requiresGrad: true });
    a.grad = tensor([3]);
    b.grad = tensor([0, 4]);
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 6);
    expect(a.grad.item()).toBeCloseTo(0.6, 5);
    expect(b.grad.toArray()).toEqual([0, expect.closeTo(0.8, 5)]);
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 5); // below: unchanged
    expect(a.grad.item()).toBeCloseTo(0.6, 5);
    b.grad = tensor([0, -7]);
    expect(clipGradNorm([a, b], 1, Infinity)).toBeCloseTo(7, 6);
    // a model instead of its parameters
    expect(() => clipGradNorm({ parameters: () => [a] } as never, 1)).toThrow(/^Kiln: clipGradNorm: params must be an array of Tensors \(e\.g\. model\.parameters\(\)\), got Object$/);
    expect(() => clipGradValue(a as never, 1)).toThrow(/^Kiln: clipGradValue: params must be an array of Tensors \(e\.g\. model\.parameters\(\)\), got a Tensor$/);
  });
  it('clipGradValue clamps', () => {
    const a = tensor([1, 1, 1], { requiresGrad: true });
    a.grad = tensor([-3, 0.5, 2]);
    clipGradValue([a], 1);
    expect(a.grad.toArray()).toEqual([-1, 0.5, 1]);
  });
});
