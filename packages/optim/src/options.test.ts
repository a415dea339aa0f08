import { describe, expect, it } from 'vitest';
import { tensor } from '@kiln/tensor';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from './index.js';

// Option objects are checked by @kiln/tensor's shared checkOptions: unknown keys and wrong types are errors
// naming the optimizer, the option and the value.
describe('optimizer options are validated', () => {
  const p = () => tensor([1, 2, 3], { requiresGrad: true });

  it('SGD', () => {
    expect(() => new SGD([p()], { lr: 0.1, momentun: 0.9 } as never)).toThrow(/^Kiln: SGD: unknown option 'momentun' \(known: lr, momentum, /);
    expect(() => new SGD([p()], { lr: 0.1, nesterov: 'yes' } as never)).toThrow("Kiln: SGD: option 'nesterov' must be a boolean, got 'yes'");
    expect(() => new SGD([p()], 0.1 as never)).toThrow('Kiln: SGD: options must be an object, got 0.1');
  });

  it('Adam', () => {
    expect(() => new Adam([p()], { beta1: 0.9 } as never)).toThrow(/^Kiln: Adam: unknown option 'beta1' \(known: lr, betas, eps, weightDecay, amsgrad\)/);
    expect(() => new Adam([p()], { betas: 0.9 } as never)).toThrow("Kiln: Adam: option 'betas' must be a pair of numbers [beta1, beta2], got 0.9");
  });

  it('AdamW names itself', () => {
    expect(() => new AdamW([p()], { weight_decay: 0.1 } as never)).toThrow(/^Kiln: AdamW: unknown option 'weight_decay'/);
    expect(() => new AdamW([p()], { amsgrad: 1 } as never)).toThrow("Kiln: AdamW: option 'amsgrad' must be a boolean, got 1");
  });

  it('RMSprop', () => {
    expect(() => new RMSprop([p()], { beta: 0.9 } as never)).toThrow(/^Kiln: RMSprop: unknown option 'beta' \(known: lr, alpha, /);
    expect(() => new RMSprop([p()], { alpha: '0.9' } as never)).toThrow("Kiln: RMSprop: option 'alpha' must be a number, got '0.9'");
  });

  it('negative weightDecay and momentum are rejected as in PyTorch', () => {
    expect(() => new Adam([p()], { weightDecay: -0.1 })).toThrow(/^Kiln: Adam: weightDecay must be >= 0, got -0\.1/);
    expect(() => new AdamW([p()], { weightDecay: -0.01 })).toThrow(/^Kiln: AdamW: weightDecay must be >= 0, got -0\.01/);
    expect(() => new RMSprop([p()], { momentum: -0.9 })).toThrow(/^Kiln: RMSprop: momentum must be >= 0, got -0\.9/);
    expect(() => new RMSprop([p()], { weightDecay: -1 })).toThrow(/^Kiln: RMSprop: weightDecay must be >= 0, got -1/);
  });

  it('Adagrad', () => {
    expect(() => new Adagrad([p()], { momentum: 0.9 } as never)).toThrow(/^Kiln: Adagrad: unknown option 'momentum' \(known: lr, lrDecay, /);
    expect(() => new Adagrad([p()], { lrDecay: null } as never)).toThrow("Kiln: Adagrad: option 'lrDecay' must be a number, got null");
  });

  it('parameter groups take the same options', () => {
    expect(() => new SGD([{ params: [p()] }, { params: [p()], learningRate: 0.2 }], { lr: 0.1 })).toThrow(
      /^Kiln: SGD: parameter group 1: unknown option 'learningRate' \(known: params, initialLr, lr, /,
    );
    expect(() => new Adam([{ params: [p()], eps: '1e-8' }])).toThrow("Kiln: Adam: parameter group 0: option 'eps' must be a number, got '1e-8'");
    // valid groups still work, including initialLr copied from a scheduled optimizer
    const opt = new SGD([{ params: [p()], lr: 0.2, momentum: 0.5, initialLr: 0.2 }], { lr: 0.1 });
    expect(opt.paramGroups[0]!.momentum).toBe(0.5);
  });
});
