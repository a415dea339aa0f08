import { describe, expect, it } from 'vitest';
import { manualSeed, randn, randint, type Tensor } from '@kiln/tensor';
import * as nn from '@kiln/nn';
import { compareWithOrt } from '../compare.js';
import { exportOnnx } from './export.js';
import { createSession, runSession } from '../runtime/session.js';
import { decodeModel } from '../proto.js';

/** Exports ONCE at batch 3 (dynamic batch), then runs batch 1 and 7 on ORT; returns the max relative diff. */
async function oneExportParity(m: nn.Module, shape: number[], backend: 'node' | 'web'): Promise<number> {
  const s = await createSession(exportOnnx(m, randn([3, ...shape]), { dynamicAxes: true }), { backend });
  let worst = 0;
  for (const batch of [1, 7]) {
    const x = randn([batch, ...shape]);
    const ref = m.forward(x) as Tensor;
    const out = (await runSession(s, { input: x })).output!;
    expect(out.shape).toEqual(ref.shape);
    const a = ref.dataSync(), o = out.dataSync();
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(Number(a[i]) - Number(o[i])) / Math.max(1, Math.abs(Number(a[i]))));
  }
  return worst;
}

manualSeed(5);

/** Every exportable layer, in eval mode, against onnxruntime-node: one export, batch 1 and 7. */
const layers: [string, () => nn.Module, number[]][] = [
  ['Linear', () => new nn.Linear(6, 4), [6]],
  ['Conv1d', () => new nn.Conv1d(3, 4, 3, { padding: 1 }), [3, 9]],
  ['Conv2d stride 2', () => new nn.Conv2d(3, 4, 3, { stride: 2 }), [3, 9, 9]],
  ['ConvTranspose2d', () => new nn.ConvTranspose2d(3, 2, 3, { stride: 2 }), [3, 5, 5]],
  ['BatchNorm1d eval', () => new nn.BatchNorm1d(5), [5]],
  ['BatchNorm2d eval', () => new nn.BatchNorm2d(3), [3, 4, 4]],
  ['LayerNorm', () => new nn.LayerNorm(6), [6]],
  ['MaxPool2d ceil', () => new nn.MaxPool2d(3, { stride: 2, ceilMode: true }), [2, 8, 8]],
  ['AvgPool2d pad', () => new nn.AvgPool2d(3, { stride: 2, padding: 1 }), [2, 8, 8]],
  ['AdaptiveAvgPool2d', () => new nn.AdaptiveAvgPool2d(2), [2, 8, 8]],
  ['Upsample nearest', () => new nn.Upsample({ scaleFactor: 2 }), [2, 3, 3]],
  ['ReLU', () => new nn.ReLU(), [6]], ['Sigmoid', () => new nn.Sigmoid(), [6]], ['Tanh', () => new nn.Tanh(), [6]],
  ['LeakyReLU', () => new nn.LeakyReLU(0.2), [6]], ['ELU', () => new nn.ELU(), [6]], ['GELU', () => new nn.GELU(), [6]],
  ['Softmax', () => new nn.Softmax(1), [6]], ['LogSoftmax', () => new nn.LogSoftmax(1), [6]],
  ['Flatten', () => new nn.Flatten(), [2, 3, 3]], ['Dropout (eval)', () => new nn.Dropout(0.5), [6]],
];

describe('layer parity Kiln vs onnxruntime-node', () => {
  for (const [name, make, shape] of layers) {
    it(name, async () => {
      expect(await oneExportParity(make().eval(), shape, 'node')).toBeLessThan(1e-4);
    });
  }

  it('BatchNorm and LayerNorm map to their ONNX ops, state-dict tensors as initializers', () => {
    const ops = (m: nn.Module, shape: number[]) => {
      const g = decodeModel(exportOnnx(m.eval(), randn([2, ...shape]))).graph!;
      return { ops: g.node!.map((n) => n.opType), inits: g.initializer!.map((t) => t.name) };
    };
    const bn = ops(new nn.Sequential(new nn.BatchNorm2d(3)), [3, 4, 4]);
    expect(bn.ops).toEqual(['BatchNormalization']);
    expect(bn.inits).toEqual(expect.arrayContaining(['0.weight', '0.bias', '0.running_mean', '0.running_var']));
    expect(ops(new nn.BatchNorm1d(4, { affine: false }), [4]).ops).toEqual(['BatchNormalization']);
    expect(ops(new nn.LayerNorm([2, 3]), [2, 3]).ops).toEqual(['LayerNormalization']);
    // Without running statistics eval normalises by the batch: BatchNormalization cannot, primitives can.
    expect(ops(new nn.BatchNorm1d(4, { trackRunningStats: false }), [4]).ops).not.toContain('BatchNormalization');
  });

  for (const [name, make] of [
    // One training step first, so the running statistics are not the identity 0/1.
    ['BatchNorm1d without affine, trained statistics', () => {
      const m = new nn.BatchNorm1d(5, { affine: false });
      m.forward(randn([8, 5]).mul(3).add(1));
      return m;
    }],
    ['LayerNorm without affine, 2 dims', () => new nn.LayerNorm([2, 3], { elementwiseAffine: false })],
  ] as [string, () => nn.Module][]) {
    it(name, async () => {
      const shape = name.startsWith('LayerNorm') ? [2, 3] : [5];
      expect(await oneExportParity(make().eval(), shape, 'node')).toBeLessThan(1e-4);
    });
  }

  it('Embedding', async () => {
    const emb = new nn.Embedding(10, 4).eval();
    const r = await compareWithOrt(emb, randint(0, 10, [3, 5]));
    expect(r.maxRelDiff).toBeLessThan(1e-4);
    expect(r.ort[0]!.shape).toEqual([3, 5, 4]);
  });
});

describe('small models, one dynamic-batch export, node and web', () => {
  const models: [string, () => nn.Module, number[]][] = [
    ['MLP', () => new nn.Sequential(new nn.Flatten(), new nn.Linear(16, 8), new nn.ReLU(), new nn.Linear(8, 3)), [1, 4, 4]],
    ['LeNet-5', () => new nn.Sequential(
      new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.Tanh(), new nn.AvgPool2d(2),
      new nn.Conv2d(6, 16, 5), new nn.Tanh(), new nn.AvgPool2d(2), new nn.Flatten(),
      new nn.Linear(16 * 5 * 5, 120), new nn.Tanh(), new nn.Linear(120, 84), new nn.Tanh(), new nn.Linear(84, 10)), [1, 28, 28]],
    ['conv net with BN', () => new nn.Sequential(
      new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Dropout(0.3), new nn.Linear(4 * 4 * 4, 5), new nn.LogSoftmax(1)), [3, 8, 8]],
  ];
  for (const backend of ['node', 'web'] as const) {
    for (const [name, make, shape] of models) {
      it(`${name} on ${backend}`, async () => {
        expect(await oneExportParity(make().eval(), shape, backend)).toBeLessThan(1e-4);
      });
    }
  }
});
