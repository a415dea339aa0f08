import { describe, expect, it } from 'vitest';
import { defaultGenerator, manualSeed, noGrad, tensor, zeros, type Tensor } from '@kiln/tensor';
import {
  BatchNorm2d, Conv2d, Flatten, Linear, Module, ReLU, Sequential, kaimingUniform_, normal_, summary, uninitialisedKeys, withoutInit,
} from './index.js';

class Net extends Module {
  features = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new ReLU());
  flat = new Flatten();
  fc = new Linear(8, 3);
  override forward(x: Tensor): Tensor {
    return this.fc.forward(this.flat.forward(this.features.forward(x)));
  }
}

const allZero = (t: Tensor) => Array.from(t.dataSync()).every((v) => v === 0);

describe('withoutInit', () => {
  it('builds the same keys and shapes with zero weights and no draws from the generator', () => {
    manualSeed(5);
    const ref = new Net();
    manualSeed(5);
    const lazy = withoutInit(() => new Net());
    const shapes = (m: Module) => Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.shape], t.dtype]);
    expect(shapes(lazy)).toEqual(shapes(ref));
    expect(allZero(lazy.features.at(0).stateDict()['weight']!)).toBe(true);
    expect(allZero(lazy.fc.weight)).toBe(true);
    // the seeded stream was not advanced: the next draw is the one the first Net's init made
    const next = defaultGenerator.random();
    manualSeed(5);
    expect(next).toBe(defaultGenerator.random());
    // initialisers called in the scope leave their tensors alone
    expect(allZero(withoutInit(() => normal_(zeros([4]), 3, 1)))).toBe(true);
  });

  it('forward refuses until every awaiting tensor is loaded, naming the keys; a partial load names the rest', () => {
    const lazy = withoutInit(() => new Net());
    expect(uninitialisedKeys(lazy)).toEqual(['features.0.weight', 'features.0.bias', 'fc.weight', 'fc.bias']);
    const x = zeros([1, 1, 4, 4]);
    expect(() => lazy.forward(x)).toThrow(
      /Kiln: Net.forward: 4 of its 9 parameters and buffers were built under withoutInit and have not been loaded \(features.0.weight, features.0.bias, fc.weight, fc.bias\); load them with loadStateDict/);
    // BatchNorm's ones/zeros are not drawn, so they are not awaited
    expect(uninitialisedKeys(lazy.features.at(1))).toEqual([]);
    const trained = new Net();
    const sd = trained.stateDict();
    lazy.loadStateDict({ 'fc.weight': sd['fc.weight']!, 'fc.bias': sd['fc.bias']! }, { strict: false });
    expect(() => lazy.forward(x)).toThrow(/2 of its 9 parameters .* \(features.0.weight, features.0.bias\)/);
    // a submodule reports its own keys
    expect(() => lazy.features.forward(x)).toThrow(/Kiln: Sequential.forward: 2 of its 7 .* \(0.weight, 0.bias\)/);
    lazy.loadStateDict(sd);
    expect(uninitialisedKeys(lazy)).toEqual([]);
    const y = noGrad(() => lazy.eval().forward(x));
    expect(Array.from(y.dataSync())).toEqual(Array.from(noGrad(() => trained.eval().forward(x)).dataSync()));
  });

  it('an nn.init function called after the scope counts as initialisation', () => {
    const lin = withoutInit(() => new Linear(3, 2));
    kaimingUniform_(lin.weight, { a: Math.sqrt(5) });
    expect(() => lin.forward(zeros([1, 3]))).toThrow(/1 of its 2 .* \(bias\)/);
    normal_(lin.bias!);
    expect(allZero(lin.weight)).toBe(false);
    expect(lin.forward(zeros([1, 3])).shape).toEqual([1, 2]);
  });

  it('weights written in place are declared loaded by loading the module\'s own state dict onto itself', () => {
    const lin = withoutInit(() => new Linear(2, 1));
    const sd = lin.stateDict();
    sd['weight']!.dataSync().set([2, 3]);
    sd['bias']!.dataSync().set([1]);
    expect(() => lin.forward(zeros([1, 2]))).toThrow(/2 of its 2/);
    lin.loadStateDict(sd);
    expect(Array.from(lin.forward(tensor([[1, 1]])).dataSync())).toEqual([6]);
  });

  it('to(dtype) keeps the record; summary() still gives shapes and counts', () => {
    const lazy = withoutInit(() => new Net()).double();
    expect(uninitialisedKeys(lazy)).toEqual(['features.0.weight', 'features.0.bias', 'fc.weight', 'fc.bias']);
    expect(() => lazy.forward(zeros([1, 1, 4, 4], { dtype: 'float64' }))).toThrow(/built under withoutInit/);
    const s = summary(lazy, [1, 1, 4, 4]);
    expect(s.totalParams).toBe(2 * 9 + 2 + 4 + 8 * 3 + 3);
    expect(s.rows.find((r) => r.name === 'fc')!.outputShape).toEqual([1, 3]);
    expect(() => lazy.forward(zeros([1, 1, 4, 4], { dtype: 'float64' }))).toThrow(/built under withoutInit/);
  });

  it('models built outside the scope are unaffected; bad use is an error', () => {
    const net = new Net();
    expect(uninitialisedKeys(net)).toEqual([]);
    expect(net.forward(zeros([1, 1, 4, 4])).shape).toEqual([1, 3]);
    expect(() => withoutInit(42 as never)).toThrow(/Kiln: withoutInit: build must be a function, got number/);
    expect(() => withoutInit(async () => new Net())).toThrow(/Kiln: withoutInit: build returned a Promise/);
    // a throwing build closes the scope: later models initialise normally
    expect(() => withoutInit(() => { throw new Error('boom'); })).toThrow('boom');
    expect(allZero(new Linear(4, 4).weight)).toBe(false);
  });
});
