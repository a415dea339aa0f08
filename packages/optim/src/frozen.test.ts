import { describe, it, expect } from 'vitest';
import { tensor, type Tensor } from '@kiln/tensor';
import { SGD, Adam, AdamW, RMSprop, type Optimizer } from './index.js';

/** Transfer learning: an optimizer built over all of a model's parameters must leave frozen ones alone. */
describe('frozen parameters (requiresGrad = false) are skipped by every optimizer', () => {
  const cases: [string, (p: Tensor[]) => Optimizer][] = [
    ['SGD', (p) => new SGD(p, { lr: 0.1 })],
    ['SGD momentum + weight decay', (p) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 })],
    ['RMSprop', (p) => new RMSprop(p, { lr: 0.1 })],
    ['Adam', (p) => new Adam(p, { lr: 0.1 })],
    ['AdamW', (p) => new AdamW(p, { lr: 0.1, weightDecay: 0.5 })],
  ];
  it.each(cases)('%s', (_name, make) => {
    const trained = tensor([1, 2, 3], { requiresGrad: true }), frozen = tensor([4, 5, 6], { requiresGrad: true });
    const opt = make([trained, frozen]);
    trained.square().sum().add(frozen.square().sum()).backward();
    expect(frozen.grad).not.toBeNull();
    frozen.requiresGrad = false; // frozen after a backward: a stale gradient is still there
    opt.step();
    expect(Array.from(frozen.dataSync())).toEqual([4, 5, 6]);
    expect(Array.from(trained.dataSync())).not.toEqual([1, 2, 3]);
    expect(opt.state.has(frozen)).toBe(false);
    frozen.requiresGrad = true; // unfrozen: it trains again
    opt.step();
    expect(Array.from(frozen.dataSync())).not.toEqual([4, 5, 6]);
  });
});
