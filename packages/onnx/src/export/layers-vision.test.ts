/**
 * The layers added for the vision zoo: ONNX Runtime parity (one dynamic-batch export, batch 1
 * and 4), the ONNX op types each exports to, and the round trip back through importOnnx.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, randn, type Tensor } from '@kiln/tensor';
import * as nn from '@kiln/nn';
import { exportOnnx } from './export.js';
import { importOnnx } from '../import/import.js';
import { createSession, runSession } from '../runtime/session.js';
import { decodeModel } from '../proto.js';

manualSeed(8);

const relDiff = (a: Tensor, b: Tensor): number => {
  expect(b.shape).toEqual(a.shape);
  const x = a.dataSync(), y = b.dataSync();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(Number(x[i]) - Number(y[i])) / Math.max(1, Math.abs(Number(x[i]))));
  return worst;
};

interface Case {
  name: string;
  make: () => nn.Module;
  /** Input shape without the batch dim. */
  shape: number[];
  /** The graph's op types, in order. */
  ops: string[];
}

const cases: Case[] = [
  { name: 'ReLU6', make: () => new nn.ReLU6(), shape: [3, 4], ops: ['Clip'] },
  { name: 'Hardsigmoid', make: () => new nn.Hardsigmoid(), shape: [3, 4], ops: ['HardSigmoid'] },
  { name: 'Hardswish', make: () => new nn.Hardswish(), shape: [3, 4], ops: ['HardSwish'] },
  { name: 'SiLU', make: () => new nn.SiLU(), shape: [3, 4], ops: ['Sigmoid', 'Mul'] },
  { name: 'StochasticDepth (eval: removed)', make: () => new nn.Sequential(new nn.StochasticDepth(0.5, 'row'), new nn.ReLU()), shape: [3, 4], ops: ['Relu'] },
  { name: 'Dropout2d (eval: removed)', make: () => new nn.Sequential(new nn.Dropout2d(0.3), new nn.ReLU()), shape: [2, 3, 3], ops: ['Relu'] },
  { name: 'MaxPool1d ceil, dilation', make: () => new nn.MaxPool1d(3, { stride: 2, padding: 1, dilation: 2, ceilMode: true }), shape: [3, 11], ops: ['MaxPool'] },
  { name: 'MaxPool3d', make: () => new nn.MaxPool3d([2, 3, 3], { stride: [1, 2, 2], padding: [1, 1, 0] }), shape: [2, 4, 7, 6], ops: ['MaxPool'] },
  { name: 'AvgPool1d exclude pad', make: () => new nn.AvgPool1d(4, { stride: 3, padding: 2, countIncludePad: false }), shape: [3, 10], ops: ['AveragePool'] },
  { name: 'AvgPool3d include pad', make: () => new nn.AvgPool3d(3, { stride: 2, padding: 1 }), shape: [2, 5, 6, 7], ops: ['AveragePool'] },
  { name: 'AvgPool1d ceil mode, include pad', make: () => new nn.AvgPool1d(3, { stride: 2, padding: 1, ceilMode: true }), shape: [2, 8], ops: ['AveragePool'] },
  { name: 'AvgPool3d ceil mode, exclude pad', make: () => new nn.AvgPool3d(2, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), shape: [2, 4, 5, 6], ops: ['AveragePool'] },
  { name: 'AdaptiveMaxPool2d uniform', make: () => new nn.AdaptiveMaxPool2d([2, 3]), shape: [3, 6, 6], ops: ['MaxPool'] },
  { name: 'AdaptiveMaxPool2d to 1', make: () => new nn.AdaptiveMaxPool2d(1), shape: [3, 5, 7], ops: ['GlobalMaxPool'] },
  { name: 'AdaptiveMaxPool1d uniform', make: () => new nn.AdaptiveMaxPool1d(3), shape: [2, 9], ops: ['MaxPool'] },
  { name: 'AdaptiveMaxPool3d uniform', make: () => new nn.AdaptiveMaxPool3d([1, 2, 2]), shape: [2, 3, 4, 6], ops: ['MaxPool'] },
  { name: 'AdaptiveAvgPool1d to 1', make: () => new nn.AdaptiveAvgPool1d(1), shape: [3, 7], ops: ['AveragePool'] },
  { name: 'AdaptiveAvgPool3d uniform', make: () => new nn.AdaptiveAvgPool3d([1, 2, 3]), shape: [2, 3, 4, 6], ops: ['AveragePool'] },
  { name: 'BatchNorm3d, trained statistics', make: () => {
    const bn = new nn.BatchNorm3d(3);
    bn.forward(randn([4, 3, 2, 3, 3]).mul(2).add(1));
    return bn;
  }, shape: [3, 2, 3, 3], ops: ['BatchNormalization'] },
  { name: 'ConvTranspose1d groups, output padding', make: () => new nn.ConvTranspose1d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }), shape: [4, 5], ops: ['ConvTranspose'] },
  { name: 'ConvTranspose3d dilation', make: () => new nn.ConvTranspose3d(2, 4, [2, 3, 3], { stride: [1, 2, 2], padding: [0, 1, 1], outputPadding: [0, 1, 0], dilation: [1, 1, 2] }), shape: [2, 3, 4, 4], ops: ['ConvTranspose'] },
  { name: 'ZeroPad2d', make: () => new nn.ZeroPad2d([1, 2, 0, 3]), shape: [3, 4, 5], ops: ['Pad'] },
  { name: 'ZeroPad2d cropping', make: () => new nn.ZeroPad2d([1, -1, 2, -2]), shape: [2, 5, 4], ops: ['Slice', 'Slice', 'Pad'] },
  { name: 'LocalResponseNorm odd size', make: () => new nn.LocalResponseNorm(5, { alpha: 0.01, k: 2 }), shape: [7, 4, 4], ops: ['LRN'] },
  { name: 'LocalResponseNorm even size (primitives)', make: () => new nn.LocalResponseNorm(2, { alpha: 0.5 }), shape: [6, 5], ops: ['Mul', 'Reshape', 'AveragePool', 'Slice', 'Reshape', 'Mul', 'Add', 'Log', 'Mul', 'Exp', 'Div'] },
  { name: 'GroupNorm', make: () => {
    const g = new nn.GroupNorm(3, 6);
    g.weight = g.weight!.detach().add(randn([6]).mul(0.5)).requiresGrad_();
    g.bias = g.bias!.detach().add(randn([6]).mul(0.5)).requiresGrad_();
    return g;
  }, shape: [6, 4, 4], ops: ['Reshape', 'InstanceNormalization', 'Shape', 'Reshape', 'Reshape', 'Mul', 'Reshape', 'Add'] },
  { name: 'GroupNorm without affine, 3-d', make: () => new nn.GroupNorm(2, 4, { affine: false, eps: 1e-3 }), shape: [4, 5], ops: ['Reshape', 'InstanceNormalization', 'Shape', 'Reshape'] },
];

describe('vision layers: ONNX export, ORT parity and import round trip', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const m = c.make().eval();
      const bytes = exportOnnx(m, randn([2, ...c.shape]).mul(4), { dynamicAxes: true });
      expect(decodeModel(bytes).graph!.node!.map((n) => n.opType)).toEqual(c.ops);
      const s = await createSession(bytes, { backend: 'node' });
      const back = importOnnx(bytes);
      for (const batch of [1, 4]) {
        const x = randn([batch, ...c.shape]).mul(4);
        const ref = m.forward(x) as Tensor;
        expect(relDiff(ref, (await runSession(s, { input: x })).output!)).toBeLessThan(1e-4);
        expect(relDiff(ref, back.forward(x) as Tensor)).toBeLessThan(1e-5);
      }
    });
  }
});

describe('small nets of the new layers: opsets 17/18/21, node and web, import and train', () => {
  const nets: [string, () => nn.Module, number[]][] = [
    ['2-D', () => new nn.Sequential(
      new nn.Conv2d(3, 6, 3, { padding: 1 }), new nn.GroupNorm(3, 6), new nn.Hardswish(), new nn.LocalResponseNorm(3, { alpha: 0.1 }),
      // ZeroPad2d feeds a Conv, not a MaxPool: ONNX Runtime 1.30's PadFusion folds Pad(0)→MaxPool into
      // MaxPool's own (−∞) padding, which changes windows whose values are all negative.
      new nn.MaxPool2d(2), new nn.ZeroPad2d(1), new nn.Conv2d(6, 8, 3), new nn.BatchNorm2d(8), new nn.ReLU6(), new nn.StochasticDepth(0.2, 'row'),
      new nn.Dropout2d(0.1), new nn.AdaptiveMaxPool2d(2), new nn.Flatten(), new nn.Linear(32, 4), new nn.Hardsigmoid(), new nn.SiLU()), [3, 8, 8]],
    ['1-D', () => new nn.Sequential(
      new nn.Conv1d(2, 4, 3), new nn.MaxPool1d(2), new nn.AvgPool1d(2, { padding: 1 }), new nn.ConvTranspose1d(4, 3, 3, { stride: 2 }),
      new nn.SiLU(), new nn.AdaptiveAvgPool1d(1), new nn.Flatten(), new nn.Linear(3, 2)), [2, 16]],
    ['3-D', () => new nn.Sequential(
      new nn.Conv3d(1, 4, 3, { padding: 1 }), new nn.BatchNorm3d(4), new nn.ReLU6(), new nn.MaxPool3d(2),
      new nn.ConvTranspose3d(4, 2, 2, { stride: 2 }), new nn.AvgPool3d(2), new nn.AdaptiveMaxPool3d(1), new nn.Flatten(), new nn.Linear(2, 3)), [1, 4, 4, 4]],
  ];

  for (const [name, make, shape] of nets) {
    it(`${name} net`, async () => {
      const m = make();
      m.forward(randn([4, ...shape]).mul(2).add(0.5)); // training step: non-trivial BatchNorm statistics
      m.eval();
      for (const opset of [17, 18, 21]) {
        const bytes = exportOnnx(m, randn([3, ...shape]), { dynamicAxes: true, opset });
        for (const backend of opset === 18 ? (['node', 'web'] as const) : (['node'] as const)) {
          const s = await createSession(bytes, { backend });
          for (const batch of [1, 3]) {
            const x = randn([batch, ...shape]);
            expect(relDiff(m.forward(x) as Tensor, (await runSession(s, { input: x })).output!), `opset ${opset} ${backend} batch ${batch}`).toBeLessThan(1e-4);
          }
        }
      }
      // The imported graph is a trainable Module: a few SGD steps lower a regression loss.
      const back = importOnnx(exportOnnx(m, randn([3, ...shape]), { dynamicAxes: true }));
      const x = randn([6, ...shape]);
      const target = randn((m.forward(x) as Tensor).shape).mul(0.5);
      const loss = () => (back.forward(x) as Tensor).sub(target).square().mean();
      const first = loss().item();
      for (let step = 0; step < 20; step++) {
        back.zeroGrad();
        loss().backward();
        for (const p of back.parameters()) if (p.grad) p.detach().sub_(p.grad.mul(0.1));
      }
      expect(loss().item()).toBeLessThan(first * 0.9);
    });
  }
});
