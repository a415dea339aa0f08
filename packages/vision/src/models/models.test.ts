/**
 * The zoo's options, input checks and scaling rules: bad options and bad images fail with errors
 * naming the model, the option or the shape; zeroInitResidual, compound scaling and the MobileNet
 * multipliers do what they say.
 */
import { describe, expect, it } from 'vitest';
import { ReLU, withoutInit } from '@kiln/nn';
import { manualSeed, noGrad, zeros, type Tensor } from '@kiln/tensor';
import { fastNormal_ } from './blocks.js';
import {
  alexnet, ConvNormActivation, efficientnet, efficientnetB0, googlenet, lenet5, makeDivisible, minInputSize, mobilenetV1, mobilenetV2,
  resnet18, resnet50, vgg11, vgg16Bn,
} from './index.js';
import { hashInput } from './test-utils/hash-weights.js';
import { paramCount, torchvisionKeys } from './test-utils/fixtures.js';

const run = (m: { forward(x: Tensor): unknown; eval(): unknown }, shape: number[]) => noGrad(() => { m.eval(); return m.forward(hashInput(shape)) as Tensor; });

describe('zoo options', () => {
  it('unknown options and wrong types are errors naming the model and the option', () => {
    expect(() => resnet18({ numClases: 10 } as never)).toThrow(/Kiln: resnet18: unknown option 'numClases' \(known: numClasses, inChannels, zeroInitResidual, widthDivisor\)/);
    expect(() => mobilenetV2({ widthMult: -1 })).toThrow(/Kiln: mobilenetV2: option 'widthMult' must be a positive number, got -1/);
    expect(() => vgg11({ numClasses: 2.5 })).toThrow(/Kiln: vgg11: option 'numClasses' must be a positive integer, got 2.5/);
    expect(() => googlenet({ auxLogits: 'yes' } as never)).toThrow(/Kiln: googlenet: option 'auxLogits' must be a boolean, got 'yes'/);
    expect(() => lenet5({ variant: 'lecun' } as never)).toThrow(/Kiln: lenet5: option 'variant' must be 'classic' or 'modern', got "lecun"/);
    expect(() => efficientnet(-1)).toThrow(/Kiln: efficientnet: phi must be a finite number >= 0, got -1/);
    expect(() => alexnet(null as never)).toThrow(/Kiln: alexnet: options must be an object, got null/);
    expect(() => mobilenetV1({ alpha: 0.5, dropout: 2 })).toThrow(/option 'dropout' must be a number in \[0, 1\], got 2/);
    expect(() => vgg16Bn({ batchNorm: false } as never)).toThrow(/^Kiln: vgg16Bn: option 'batchNorm' does not apply \(vgg16Bn always has BatchNorm\), got false; use vgg16 for either$/);
    // the shared block too: a misspelt key used to build a ReLU-less or stride-1 block silently
    expect(() => new ConvNormActivation(3, 8, 3, { strides: 2, activation: null } as never)).toThrow(/^Kiln: ConvNormActivation: unknown option 'strides' \(known: stride, groups, eps, momentum, activation\)$/);
    expect(() => new ConvNormActivation(3, 8, 3, { activation: new ReLU() } as never)).toThrow(/^Kiln: ConvNormActivation: option 'activation' must be a function returning a Module, or null, got \{/);
  });

  it('numClasses and inChannels shape the first and last layers', () => {
    const m = resnet18({ numClasses: 7, inChannels: 1, widthDivisor: 8 });
    expect(m.conv1.weight.shape).toEqual([8, 1, 7, 7]);
    expect(run(m, [2, 1, 32, 32]).shape).toEqual([2, 7]);
    expect(run(mobilenetV2({ widthMult: 0.25, numClasses: 3, inChannels: 4 }), [1, 4, 32, 32]).shape).toEqual([1, 3]);
  });
});

describe('zoo input checks', () => {
  it('a wrong channel count names the model and the shape', () => {
    expect(() => run(resnet18({ widthDivisor: 8 }), [1, 1, 32, 32])).toThrow(/Kiln: resnet18: expected images \[N, 3, H, W\] \(inChannels 3\), got input of shape \[1,1,32,32\]/);
    expect(() => run(lenet5(), [1, 3, 32, 32])).toThrow(/Kiln: lenet5: expected images \[N, 1, H, W\]/);
    expect(() => run(mobilenetV2({ widthMult: 0.25 }), [3, 32, 32])).toThrow(/Kiln: mobilenetV2: expected images \[N, 3, H, W\] \(inChannels 3\), got input of shape \[3,32,32\]/);
  });

  it('images too small for the downsampling fail up front; the smallest size works', () => {
    const cases: [string, () => { forward(x: Tensor): unknown; eval(): unknown }, number, number][] = [
      ['lenet5', () => lenet5(), 32, 1],
      ['alexnet', () => alexnet({ widthDivisor: 16, hidden: 16 }), 63, 3],
      ['vgg11', () => vgg11({ widthDivisor: 16, hidden: 16 }), 32, 3],
      ['googlenet', () => googlenet({ numClasses: 4 }), 15, 3], // torchvision: 14 fails, 15 runs
    ];
    for (const [name, make, min, c] of cases) {
      const m = make();
      expect(() => run(m, [1, c, min - 1, min + 5]), name).toThrow(new RegExp(`Kiln: ${name}: input images of ${min - 1}×${min + 5} are too small for its downsampling: need at least ${min}×${min}`));
      expect(run(m, [1, c, min, min]).shape[0]).toBe(1);
    }
    // networks ending in a global pool with padded strided convs take any size
    expect(run(resnet18({ widthDivisor: 8 }), [1, 3, 1, 1]).shape).toEqual([1, 1000]);
  });

  it('minInputSize follows PyTorch\'s conv/pool arithmetic (ceil mode included)', () => {
    expect(minInputSize([{ k: 2, s: 2 }])).toBe(2);
    // PyTorch: MaxPool2d(3, 2, ceil_mode=True) twice works on 4×4 (2×2, then one overhanging window), not on 3×3
    expect(minInputSize([{ k: 3, s: 2, ceil: true }, { k: 3, s: 2, ceil: true }])).toBe(4);
    expect(minInputSize([{ k: 3, s: 2 }, { k: 3, s: 2 }])).toBe(7);
    expect(minInputSize([{ k: 11, s: 4, p: 2 }])).toBe(7);
  });
});

describe('zoo scaling rules', () => {
  it('zeroInitResidual zeroes the last BatchNorm γ of every block, so each block starts as relu(identity)', () => {
    const r = resnet18({ zeroInitResidual: true, widthDivisor: 8 });
    type Blk = { bn2: { weight: Tensor }; bn3: { weight: Tensor }; eval(): { forward(x: Tensor): unknown } };
    expect(Array.from((r.layer1.at(0) as unknown as Blk).bn2.weight.dataSync()).every((v) => v === 0)).toBe(true);
    const x = hashInput([2, 8, 8, 8]);
    const block = (r.layer1.at(1) as unknown as Blk).eval();
    expect(Array.from((noGrad(() => block.forward(x)) as Tensor).dataSync())).toEqual(Array.from(x.relu().dataSync()));
    const b = resnet50({ zeroInitResidual: true, widthDivisor: 8 });
    expect(Array.from((b.layer2.at(0) as unknown as Blk).bn3.weight.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from((resnet18({ widthDivisor: 8 }).layer1.at(0) as unknown as Blk).bn2.weight.dataSync()).every((v) => v === 1)).toBe(true);
  });

  it('fastNormal_ draws N(0, std²) from the seeded default generator', () => {
    const t = zeros([200_000]);
    manualSeed(3);
    fastNormal_(t, 0.5);
    const d = Array.from(t.dataSync());
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.005);
    expect(d.filter((v) => Math.abs(v) < 0.5).length / d.length).toBeCloseTo(0.6827, 2);
    expect(d.filter((v) => Math.abs(v) < 1).length / d.length).toBeCloseTo(0.9545, 2);
    manualSeed(3);
    expect(Array.from(fastNormal_(zeros([1001]), 0.5).dataSync())).toEqual(d.slice(0, 1001));
  });

  it('makeDivisible rounds like the TF reference (never more than 10% down)', () => {
    expect([makeDivisible(32 * 0.25), makeDivisible(16 * 1.21), makeDivisible(40 * 1.1), makeDivisible(100), makeDivisible(3, 8)]).toEqual([8, 24, 48, 104, 8]);
    expect(() => makeDivisible(32, 0)).toThrow(/^Kiln: makeDivisible: divisor must be a positive integer, got 0$/);
    expect(() => makeDivisible(Number.NaN)).toThrow(/^Kiln: makeDivisible: v must be a finite number >= 0, got NaN$/);
  });

  it('efficientnet(phi): depth 1.2^φ (⌈n·d⌉ repeats), width 1.1^φ (makeDivisible), resolution 224·1.15^φ', () => {
    const b0 = withoutInit(() => efficientnet(0));
    expect(Object.keys(b0.stateDict())).toEqual(torchvisionKeys('efficientnet_b0').keys.map(([k]) => k));
    const e2 = withoutInit(() => efficientnet(2, { numClasses: 10 }));
    expect(e2.inputSize).toBe(Math.round(224 * 1.15 ** 2));
    const repeats = e2.features.children().slice(1, -1).map((s) => s.children().length);
    expect(repeats).toEqual([1, 2, 2, 3, 3, 4, 1].map((n) => Math.ceil(n * 1.44)));
    expect((e2.features.at(0) as unknown as { stateDict(): Record<string, Tensor> }).stateDict()['0.weight']!.shape[0]).toBe(makeDivisible(32 * 1.21));
    expect(paramCount(e2)).toBeGreaterThan(paramCount(withoutInit(() => efficientnetB0({ numClasses: 10 }))));
    expect(run(efficientnet(1, { widthMult: 0.25, numClasses: 4 }), [1, 3, 32, 32]).shape).toEqual([1, 4]);
  });

  it('efficientnet channel and repeat rounding equals torchvision\'s (B2: width 1.1, depth 1.2; B3: 1.2, 1.4)', () => {
    for (const [phi, w, d, tv] of [[2, 1.1, 1.2, 'efficientnet_b2'], [3, 1.2, 1.4, 'efficientnet_b3']] as const) {
      const m = withoutInit(() => efficientnet(phi, { widthMult: w, depthMult: d }));
      expect(Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.shape]])).toEqual(torchvisionKeys(tv).keys);
      expect(paramCount(m)).toBe(torchvisionKeys(tv).params);
    }
  });

  it('mobilenetV1: α scales widths (⌊c·α⌋, at least 8), ρ sets inputSize; α = 1 has 4,231,976 parameters', () => {
    const full = withoutInit(() => mobilenetV1());
    expect(paramCount(full)).toBe(4_231_976);
    const half = mobilenetV1({ alpha: 0.5, rho: 128 / 224 });
    expect(half.inputSize).toBe(128);
    expect(half.classifier.at(1).stateDict()['weight']!.shape).toEqual([1000, 512]);
    expect(mobilenetV1({ alpha: 0.1 }).features.at(0).stateDict()['0.weight']!.shape).toEqual([8, 3, 3, 3]);
    expect(run(half, [1, 3, 128, 128]).shape).toEqual([1, 1000]);
  });

  it('mobilenetV2 widthMult: channels rounded to multiples of 8, last conv kept at 1280 below 1.0', () => {
    const m = withoutInit(() => mobilenetV2({ widthMult: 0.35 }));
    const sd = m.stateDict();
    expect(sd['features.0.0.weight']!.shape).toEqual([16, 3, 3, 3]);
    expect(sd['features.18.0.weight']!.shape[0]).toBe(1280);
    expect(withoutInit(() => mobilenetV2({ widthMult: 1.4 })).stateDict()['features.18.0.weight']!.shape[0]).toBe(1792);
  });
});
