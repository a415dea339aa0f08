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
