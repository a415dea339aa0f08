import { describe, expect, it } from 'vitest';
import {
  arange, avgPool2d, checkOptions, conv2d, convTranspose2d, dropout, full, gradcheck, interpolate, linspace, maxPool2d, rand, randn,
  randperm, tensor, variance, zeros, adaptiveMaxPool2d,
} from './index.js';

describe('checkOptions', () => {
  it('accepts undefined, absent and undefined-valued keys; names the function, option and value otherwise', () => {
    expect(() => checkOptions('f', undefined, { a: 'int' })).not.toThrow();
    expect(() => checkOptions('f', { a: undefined }, { a: 'int' })).not.toThrow();
    expect(() => checkOptions('f', { b: 1 }, { a: 'int' })).toThrow("Kiln: f: unknown option 'b' (known: a)");
    expect(() => checkOptions('f', { a: 1.5 }, { a: 'int' })).toThrow("Kiln: f: option 'a' must be an integer, got 1.5");
    expect(() => checkOptions('f', { a: 'x' }, { a: ['y', 'z'] })).toThrow("option 'a' must be one of 'y', 'z', got 'x'");
    expect(() => checkOptions('f', { a: 0 }, { a: (v) => (v === 1 ? null : 'one') })).toThrow("option 'a' must be one, got 0");
    expect(() => checkOptions('f', 3, {})).toThrow('Kiln: f: options must be an object, got 3');
    expect(() => checkOptions('f', [1], {})).toThrow('Kiln: f: options must be an object, got an array [1]');
    expect(() => checkOptions('f', { toString: 1 }, { a: 'int' })).toThrow("unknown option 'toString'");
  });
});

describe('public functions validate their option objects', () => {
  const x = rand([1, 1, 4, 4]);
  it("arange(end, { dtype }) and arange(start, end, { dtype }) work like PyTorch's keyword form", () => {
    const a = arange(16, { dtype: 'float32' });
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([16]);
    expect((a.toArray() as number[])[15]).toBe(15);
    expect(arange(2, 5, { dtype: 'float64' }).toArray()).toEqual([2, 3, 4]);
    expect(arange(0, 1, 0.25, { dtype: 'float64' }).dtype).toBe('float64');
    expect(arange(4).dtype).toBe('int32');
    expect(() => arange(4, { dtyp: 'float32' } as never)).toThrow("Kiln: arange: unknown option 'dtyp' (known: dtype, requiresGrad)");
    expect(() => (arange as (...a: unknown[]) => unknown)(4, { dtype: 'float32' }, 1)).toThrow('arange: nothing may follow the options object');
    expect(() => arange('4' as never)).toThrow("arange: start must be a number, got 4");
  });

  it('maxPool2d/avgPool2d take the kernel size as an int (square) or inside the options', () => {
    const a = maxPool2d(x, 2);
    expect(a.shape).toEqual([1, 1, 2, 2]);
    expect(maxPool2d(x, { kernelSize: 2 }).toArray()).toEqual(a.toArray());
    expect(maxPool2d(x, { kernelSize: [2, 2], stride: 1 }).shape).toEqual([1, 1, 3, 3]);
    const [v, i] = maxPool2d(x, { kernelSize: 2, returnIndices: true });
    expect(v.toArray()).toEqual(a.toArray());
    expect(i.dtype).toBe('int32');
    expect(avgPool2d(x, { kernelSize: 2 }).toArray()).toEqual(avgPool2d(x, 2).toArray());
    expect(() => maxPool2d(x, { stride: 2 } as never)).toThrow('maxPool2d: missing kernelSize (options given: stride)');
    expect(() => (maxPool2d as (...a: unknown[]) => unknown)(x, { kernelSize: 2 }, {})).toThrow('maxPool2d: give the options once');
    expect(() => maxPool2d(x, 2, { strides: 2 } as never)).toThrow("maxPool2d: unknown option 'strides'");
    expect(() => maxPool2d(x, 2, { ceilMode: 1 } as never)).toThrow("maxPool2d: option 'ceilMode' must be a boolean, got 1");
    expect(() => maxPool2d(x, '2' as never)).toThrow("maxPool2d: kernelSize must be a positive integer or an array of them, got '2'");
    expect(() => avgPool2d(x, 2, { countIncludePads: true } as never)).toThrow("avgPool2d: unknown option 'countIncludePads'");
    expect(() => adaptiveMaxPool2d(x, 2, { indices: true } as never)).toThrow("adaptiveMaxPool2d: unknown option 'indices'");
  });

  it('conv, interpolate, var, creation, random, backward and gradcheck options', () => {
    const w = rand([1, 1, 3, 3]);
    expect(() => conv2d(x, w, null, { pad: 1 } as never)).toThrow("Kiln: conv2d: unknown option 'pad' (known: stride, padding, dilation, groups, outputClamp)");
    expect(() => conv2d(x, w, null, { padding: 'full' } as never)).toThrow("conv2d: option 'padding' must be 'same', 'valid'");
    expect(() => conv2d(x, w, null, { groups: 0 })).toThrow("conv2d: option 'groups' must be a positive integer, got 0");
    expect(() => convTranspose2d(x, w, null, { outputPad: 1 } as never)).toThrow("convTranspose2d: unknown option 'outputPad'");
    expect(() => interpolate(x, { scale: 2 } as never)).toThrow("interpolate: unknown option 'scale'");
    expect(() => interpolate(x, undefined as never)).toThrow('interpolate: options with size or scaleFactor are required');
    expect(() => variance(x, 1, { unbiased: false } as never)).toThrow("var: unknown option 'unbiased' (known: correction, keepdim)");
    expect(() => zeros([2], { dtype: 'int64' } as never)).toThrow("full: unknown dtype 'int64'");
    expect(() => full([2], 1, { requires_grad: true } as never)).toThrow("full: unknown option 'requires_grad'");
    expect(() => tensor([1], { shape: [-1] })).toThrow("tensor: option 'shape' must be an array of non-negative integers");
    expect(() => linspace(0, 1, 3, { device: 'cpu' } as never)).toThrow("linspace: unknown option 'device'");
    expect(() => randn([2], { seed: 1 } as never)).toThrow("randn: unknown option 'seed' (known: dtype, requiresGrad, generator)");
    expect(() => randn([2], { generator: 1 } as never)).toThrow("randn: option 'generator' must be a Generator, got 1");
    expect(() => randperm(3, { dtype: 'int32' } as never)).toThrow("randperm: unknown option 'dtype'");
    expect(() => dropout(x, 0.5, true, { p: 0.1 } as never)).toThrow("dropout: unknown option 'p'");
    const y = rand([2], { requiresGrad: true }).mul(2).sum();
    expect(() => y.backward(undefined, { retain_graph: true } as never)).toThrow("backward: unknown option 'retain_graph'");
    expect(() => gradcheck((a) => a.sum(), [rand([2], { dtype: 'float64', requiresGrad: true })], { epsilon: 1e-6 } as never)).toThrow("gradcheck: unknown option 'epsilon'");
  });
});
