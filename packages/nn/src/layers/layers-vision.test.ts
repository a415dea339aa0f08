/** Gradchecks, behaviour and bad-input errors of the layers added for the vision zoo. */
import { describe, expect, it } from 'vitest';
import { Generator, ones, randn, tensor, zeros, type Tensor } from '@kiln/tensor';
import {
  AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d, AvgPool3d, BatchNorm3d, ConvTranspose1d, ConvTranspose3d, Dropout2d, gradcheckModule, GroupNorm, Linear,
  LocalResponseNorm, MaxPool1d, MaxPool3d, Module, ModuleDict, ReLU, ZeroPad2d,
} from '../index.js';

/** Float64 input in [-1.5, 1.5) from a fixed sequence, distinct values (no max-pool ties). */
function input(shape: number[], seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, (_, i) => 1.5 * Math.sin(seed * 7.3 + i * 2.17 + 0.01 * i * i));
  return tensor(data, { shape }).requiresGrad_();
}

function expectGradOk(m: Module, x: Tensor) {
  const w = input(m.forward(x.detach().double()).shape, 99).detach();
  const r = gradcheckModule(m, [x], (y) => y.mul(w).sum());
  expect(r.ok, `${m.constructor.name}: ${JSON.stringify(r)}`).toBe(true);
}

describe('float64 gradchecks (inputs and parameters)', () => {
  const cases: [string, () => Module, number[]][] = [
    ['MaxPool1d', () => new MaxPool1d(3, { stride: 2, padding: 1, ceilMode: true }), [2, 2, 7]],
    ['MaxPool3d', () => new MaxPool3d(2, { stride: [1, 2, 2] }), [1, 2, 3, 4, 4]],
    ['AvgPool1d', () => new AvgPool1d(3, { stride: 2, padding: 1, countIncludePad: false }), [2, 2, 7]],
    ['AvgPool3d', () => new AvgPool3d([2, 2, 3], { padding: [1, 0, 1], ceilMode: true }), [1, 2, 3, 4, 5]],
    ['AdaptiveMaxPool2d', () => new AdaptiveMaxPool2d([2, 3]), [1, 2, 5, 7]],
    ['AdaptiveMaxPool1d', () => new AdaptiveMaxPool1d(3), [2, 2, 7]],
    ['AdaptiveMaxPool3d', () => new AdaptiveMaxPool3d([2, null, 2]), [1, 2, 3, 2, 5]],
    ['AdaptiveAvgPool1d', () => new AdaptiveAvgPool1d(3), [2, 2, 7]],
    ['AdaptiveAvgPool3d', () => new AdaptiveAvgPool3d([2, 1, 3]), [1, 2, 3, 2, 5]],
    ['BatchNorm3d (train)', () => new BatchNorm3d(2), [2, 2, 2, 2, 2]],
    ['ConvTranspose1d', () => new ConvTranspose1d(2, 4, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }), [2, 2, 4]],
    ['ConvTranspose3d', () => new ConvTranspose3d(2, 2, [2, 2, 2], { stride: 2, dilation: [1, 2, 1] }), [1, 2, 2, 2, 3]],
    ['ZeroPad2d', () => new ZeroPad2d([1, -1, 0, 2]), [1, 2, 3, 3]],
    ['LocalResponseNorm', () => new LocalResponseNorm(3, { alpha: 0.5, k: 1.2 }), [2, 4, 2, 2]],
    ['LocalResponseNorm even size', () => new LocalResponseNorm(4, { alpha: 0.8, beta: 0.5 }), [1, 5, 3]],
    ['GroupNorm', () => {
      const g = new GroupNorm(2, 4);
      g.weight = g.weight!.detach().add(randn([4]).mul(0.3)).requiresGrad_();
      return g;
    }, [2, 4, 3]],
  ];
  for (const [name, make, shape] of cases) it(name, () => expectGradOk(make(), input(shape)));
});

describe('behaviour', () => {
  it('Dropout2d zeroes whole channels with probability p, scales the rest, identity in eval', () => {
    const x = ones([50, 8, 2, 3]);
    const y = new Dropout2d(0.25, new Generator(2)).forward(x);
    const d = y.dataSync();
    let dropped = 0;
    for (let ch = 0; ch < 400; ch++) {
      const vals = new Set(Array.from(d.slice(ch * 6, ch * 6 + 6), Number));
      expect(vals.size).toBe(1);
      const v = [...vals][0]!;
      expect([0, 1 / 0.75].some((e) => Math.abs(v - e) < 1e-6)).toBe(true);
      if (v === 0) dropped++;
    }
    expect(dropped).toBeGreaterThan(70);
    expect(dropped).toBeLessThan(130);
    const m = new Dropout2d(0.5).eval();
    expect(m.forward(x)).toBe(x);
    const un = new Dropout2d(0.5, new Generator(3)).forward(ones([6, 2, 2]));
    for (let c = 0; c < 6; c++) expect(new Set(Array.from(un.dataSync().slice(c * 4, c * 4 + 4))).size).toBe(1);
  });

  it('GroupNorm normalises each (sample, group); eval equals train', () => {
    const g = new GroupNorm(2, 4, { affine: false });
    const x = randn([3, 4, 5]).mul(3).add(2);
    const y = g.forward(x).reshape([3, 2, 10]);
    const mean = y.mean(2), v = y.var(2, { correction: 0 });
    for (const m of mean.dataSync()) expect(Math.abs(m)).toBeLessThan(1e-5);
    for (const s of v.dataSync()) expect(Math.abs(s - 1)).toBeLessThan(1e-3);
    expect(g.eval().forward(x).dataSync()).toEqual(g.train().forward(x).dataSync());
    expect(Object.keys(new GroupNorm(2, 4).stateDict())).toEqual(['weight', 'bias']);
    expect(Object.keys(g.stateDict())).toEqual([]);
  });

  it('ModuleDict: set/get/has/pop, keys in insertion order, state-dict keys <dict>.<key>.<param>', () => {
    const d = new ModuleDict({ enc: new Linear(2, 3), act: new ReLU() });
    d.set('dec', new Linear(3, 2));
    expect(d.keys()).toEqual(['enc', 'act', 'dec']);
    expect([...d]).toEqual(['enc', 'act', 'dec']);
    expect(d.length).toBe(3);
    expect(d.has('act')).toBe(true);
    expect(d.get('dec')).toBeInstanceOf(Linear);
    expect(Object.keys(d.stateDict())).toEqual(['enc.weight', 'enc.bias', 'dec.weight', 'dec.bias']);
    const replaced = new Linear(2, 3);
    d.set('enc', replaced);
    expect(d.get('enc')).toBe(replaced);
    expect(d.pop('act')).toBeInstanceOf(ReLU);
    expect(d.keys()).toEqual(['enc', 'dec']);
    expect(new ModuleDict([['a', new ReLU()]]).keys()).toEqual(['a']);
  });
});

describe('bad input names the layer, the argument and the shape', () => {
  it('wrong rank or channel count', () => {
    expect(() => new MaxPool1d(2).forward(zeros([1, 2, 3, 4]))).toThrow(/Kiln: MaxPool1d: expected \[N, C, L\] \(or \[C, L\]\), got input of shape \[1,2,3,4\]/);
    expect(() => new AvgPool3d(2).forward(zeros([1, 2, 3]))).toThrow(/Kiln: AvgPool3d: expected \[N, C, D, H, W\]/);
    expect(() => new MaxPool3d(2).forward(zeros([2, 3]))).toThrow(/Kiln: MaxPool3d: expected/);
    expect(() => new AvgPool1d(2).forward(zeros([4]))).toThrow(/Kiln: AvgPool1d: expected/);
    expect(() => new AdaptiveMaxPool2d(2).forward(zeros([1, 2, 3, 4, 5]))).toThrow(/Kiln: AdaptiveMaxPool2d: expected \[N, C, H, W\]/);
    expect(() => new AdaptiveAvgPool1d(2).forward(zeros([1, 2, 3, 4]))).toThrow(/Kiln: AdaptiveAvgPool1d: expected \[N, C, L\] \(or \[C, L\]\), got input of shape \[1,2,3,4\]/);
    expect(() => new BatchNorm3d(3).forward(zeros([2, 4, 2, 2, 2]))).toThrow(/Kiln: BatchNorm3d: expected 5-d input with 3 channels in dim 1, got input of shape \[2,4,2,2,2\]/);
    expect(() => new BatchNorm3d(3).forward(zeros([2, 3, 2, 2]))).toThrow(/Kiln: BatchNorm3d: expected 5-d input/);
    expect(() => new ConvTranspose1d(3, 2, 2).forward(zeros([1, 4, 5]))).toThrow(/Kiln: ConvTranspose1d: expected \[N, 3, \.\.\.1 spatial dims\]/);
    expect(() => new ConvTranspose3d(2, 2, 2).forward(zeros([1, 2, 4, 4]))).toThrow(/Kiln: ConvTranspose3d: expected \[N, 2, \.\.\.3 spatial dims\]/);
    expect(() => new ZeroPad2d(1).forward(zeros([1, 2, 3, 4, 5]))).toThrow(/Kiln: ZeroPad2d: expected \[N, C, H, W\] \(or \[C, H, W\]\), got input of shape \[1,2,3,4,5\]/);
    expect(() => new LocalResponseNorm(3).forward(zeros([2, 4]))).toThrow(/Kiln: LocalResponseNorm: expected \[N, C, \.\.\.\] with at least 3 dims, got input of shape \[2,4\]/);
    expect(() => new GroupNorm(2, 4).forward(zeros([2, 6, 3]))).toThrow(/Kiln: GroupNorm: expected \[N, 4, \.\.\.\] \(4 channels in dim 1\), got input of shape \[2,6,3\]/);
    expect(() => new Dropout2d().forward(zeros([2, 3]))).toThrow(/Kiln: Dropout2d: expected \[N, C, H, W\]/);
  });

  it('bad constructor arguments and options', () => {
    expect(() => new GroupNorm(4, 6)).toThrow(/Kiln: GroupNorm: numChannels 6 must be a positive multiple of numGroups 4/);
    expect(() => new GroupNorm(2, 4, { elementwiseAffine: false } as never)).toThrow(/Kiln: GroupNorm: unknown option 'elementwiseAffine' \(known: eps, affine, dtype\)/);
    expect(() => new LocalResponseNorm(0)).toThrow(/Kiln: LocalResponseNorm: size must be a positive integer, got 0/);
    expect(() => new LocalResponseNorm(3, { alpha: '1' } as never)).toThrow(/Kiln: LocalResponseNorm: option 'alpha' must be a number, got '1'/);
    expect(() => new MaxPool1d(2, { ceil_mode: true } as never)).toThrow(/Kiln: MaxPool1d: unknown option 'ceil_mode' \(known: stride, padding, dilation, ceilMode\)/);
    expect(() => new AvgPool3d(2, { stride: 'x' } as never)).toThrow(/Kiln: AvgPool3d: option 'stride' must be a positive integer or an array of them/);
    expect(() => new MaxPool3d('2' as never)).toThrow(/Kiln: MaxPool3d: kernelSize must be a positive integer or an array of them, got "2"/);
    // a zero or fractional kernel used to be accepted until the first forward
    expect(() => new MaxPool1d(0)).toThrow(/^Kiln: MaxPool1d: kernelSize must be a positive integer or an array of them, got 0$/);
    expect(() => new AvgPool3d([2, 1.5, 2])).toThrow(/^Kiln: AvgPool3d: kernelSize must be a positive integer or an array of them, got \[2,1\.5,2\]$/);
    expect(() => new AdaptiveMaxPool2d([2, 0])).toThrow(/Kiln: AdaptiveMaxPool2d: outputSize must be a positive integer or 2 of them \(null keeps the input size\), got \[2,0\]/);
    expect(() => new AdaptiveAvgPool3d([2, 2])).toThrow(/Kiln: AdaptiveAvgPool3d: outputSize must be a positive integer or 3 of them/);
    expect(() => new ZeroPad2d([1, 2])).toThrow(/Kiln: ZeroPad2d: padding must be an integer or \[left, right, top, bottom\], got \[1,2\]/);
    expect(() => new Dropout2d(2)).toThrow(/Kiln: Dropout2d: p must be a number in \[0, 1\], got 2/);
    expect(() => new ModuleDict({ 'a.b': new ReLU() })).toThrow(/Kiln: ModuleDict.set: key must be a non-empty string without '\.'/);
    expect(() => new ModuleDict({ keys: new ReLU() })).toThrow(/Kiln: ModuleDict.set: key 'keys' clashes with a ModuleDict property or method/);
    expect(() => new ModuleDict({ training: new ReLU() })).toThrow(/clashes/);
    expect(() => new ModuleDict({ a: 3 as never })).toThrow(/Kiln: ModuleDict.set: the value for 'a' is not a Module/);
    expect(() => new ModuleDict().get('x')).toThrow(/Kiln: ModuleDict.get: no module under 'x' \(keys: none\)/);
    expect(() => new ModuleDict().forward()).toThrow(/ModuleDict: has no forward/);
  });
});
