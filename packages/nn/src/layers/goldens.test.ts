/**
 * The vision-zoo layers against PyTorch 1.13 (fixtures from scripts/gen_layer_goldens.py):
 * same state dict, same float64 input → same output, input gradient and parameter gradients
 * for the upstream gradient `g`; training-mode BatchNorm3d also updates its buffers the same.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { Tensor } from '@kiln/tensor';
import { expectClose, forEachBackend } from '@kiln/tensor/testing';
import * as nn from '../index.js';

const { tensors, metadata } = nn.parseSafetensors(new Uint8Array(readFileSync(new URL('../../fixtures/layer-goldens.safetensors', import.meta.url))));

/** Kiln's spelling of each case's PyTorch constructor (metadata[case] holds the torch one). */
const factories: Record<string, () => nn.Module> = {
  relu6: () => new nn.ReLU6(),
  hardsigmoid: () => new nn.Hardsigmoid(),
  hardswish: () => new nn.Hardswish(),
  silu: () => new nn.SiLU(),
  maxpool1d: () => new nn.MaxPool1d(3, { stride: 2, padding: 1, dilation: 2, ceilMode: true }),
  maxpool3d: () => new nn.MaxPool3d([2, 3, 3], { stride: [1, 2, 2], padding: [1, 1, 0], ceilMode: true }),
  avgpool1d_exclude: () => new nn.AvgPool1d(4, { stride: 3, padding: 2, ceilMode: true, countIncludePad: false }),
  avgpool1d_include: () => new nn.AvgPool1d(3, { stride: 2, padding: 1 }),
  avgpool3d_include: () => new nn.AvgPool3d(3, { stride: 2, padding: 1, ceilMode: true }),
  avgpool3d_exclude: () => new nn.AvgPool3d([2, 3, 3], { stride: [2, 2, 1], padding: [1, 1, 1], countIncludePad: false }),
  adaptivemaxpool2d_uneven: () => new nn.AdaptiveMaxPool2d([3, null]),
  adaptivemaxpool2d_even: () => new nn.AdaptiveMaxPool2d(2),
  adaptivemaxpool1d: () => new nn.AdaptiveMaxPool1d(4),
  adaptivemaxpool3d: () => new nn.AdaptiveMaxPool3d([2, null, 3]),
  adaptiveavgpool1d: () => new nn.AdaptiveAvgPool1d(3),
  adaptiveavgpool3d: () => new nn.AdaptiveAvgPool3d([1, 3, 2]),
  batchnorm3d_eval: () => new nn.BatchNorm3d(3),
  batchnorm3d_train: () => new nn.BatchNorm3d(3, { momentum: 0.2, eps: 1e-3 }),
  convtranspose1d: () => new nn.ConvTranspose1d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
  convtranspose1d_dilated: () => new nn.ConvTranspose1d(3, 2, 2, { stride: 3, dilation: 2, bias: false }),
  convtranspose3d: () => new nn.ConvTranspose3d(2, 4, [2, 3, 3], { stride: [1, 2, 2], padding: [0, 1, 1], outputPadding: [0, 1, 0], groups: 2, dilation: [1, 1, 2] }),
  zeropad2d: () => new nn.ZeroPad2d([1, 2, 0, 3]),
  zeropad2d_crop: () => new nn.ZeroPad2d([1, -1, 2, -2]),
  lrn5: () => new nn.LocalResponseNorm(5, { alpha: 0.01, beta: 0.75, k: 2 }),
  lrn2_even: () => new nn.LocalResponseNorm(2),
  lrn3_5d: () => new nn.LocalResponseNorm(3, { alpha: 0.5, beta: 0.6, k: 1.5 }),
  groupnorm: () => new nn.GroupNorm(3, 6),
  groupnorm_noaffine: () => new nn.GroupNorm(2, 4, { eps: 1e-3, affine: false }),
};

const tight = { atol: 1e-11, rtol: 1e-9 };
/** PyTorch's hardsigmoid backward multiplies by the float32 constant 1.0f/6.0f even in float64 (0.16666667163…). */
const gradTolerance = (name: string) => (name === 'hardsigmoid' ? { atol: 1e-11, rtol: 4e-8 } : tight);

function prefixed(prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = t;
  return out;
}

forEachBackend('layers vs PyTorch 1.13 goldens (float64)', () => {
  const cases = Object.keys(metadata).filter((k) => k !== 'moduledict_keys');
  it('every recorded case has a Kiln factory and vice versa', () => {
    expect(cases.sort()).toEqual(Object.keys(factories).sort());
  });

  for (const name of cases) {
    it(`${name}: ${metadata[name]}`, () => {
      const m = factories[name]!().double();
      const before = prefixed(`${name}.p.`);
      expect(Object.keys(m.stateDict()).sort(), 'state-dict keys').toEqual(Object.keys(before).sort());
      m.loadStateDict(before);
      m.train(name.endsWith('_train'));
      const x = tensors[`${name}.x`]!.detach().requiresGrad_();
      const y = m.forward(x) as Tensor;
      expectClose(y, tensors[`${name}.y`]!, tight);
      y.mul(tensors[`${name}.g`]!).sum().backward();
      expectClose(x.grad!, tensors[`${name}.dx`]!, gradTolerance(name));
      const dp = prefixed(`${name}.dp.`);
      const params = Object.fromEntries(m.namedParameters());
      expect(Object.keys(params).sort()).toEqual(Object.keys(dp).sort());
      for (const [k, g] of Object.entries(dp)) expectClose(params[k]!.grad!, g, tight);
      const after = prefixed(`${name}.after.`);
      const sd = m.stateDict();
      for (const [k, t] of Object.entries(after)) expectClose(sd[k]!.to('float64'), t, tight);
    });
  }

  it('ModuleDict state-dict keys equal torch.nn.ModuleDict', () => {
    class Body extends nn.Module {
      heads = new nn.ModuleDict({ cls: new nn.Linear(4, 3), box: new nn.Sequential(new nn.Conv2d(2, 4, 3), new nn.BatchNorm2d(4)) });
    }
    expect(Object.keys(new Body().stateDict())).toEqual(JSON.parse(metadata.moduledict_keys!));
  });
});
