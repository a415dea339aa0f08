/** The Siamese models export to ONNX and match ONNX Runtime (the classifier with two inputs). */
import { describe, expect, it } from 'vitest';
import { createSession, exportOnnx, runSession } from '@kiln/onnx';
import { manualSeed, noGrad, randn, type Tensor } from '@kiln/tensor';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@kiln/nn';
import { SiameseClassifier, SiameseNetwork } from './index.js';

const net = () => new Sequential(new Conv2d(1, 4, 3), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 3 * 3, 8));
const maxRel = (a: Tensor, b: Tensor) => {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync(), y = b.dataSync();
  let d = 0, m = 0;
  for (let i = 0; i < x.length; i++) { d = Math.max(d, Math.abs(x[i]! - y[i]!)); m = Math.max(m, Math.abs(y[i]!)); }
  return d / m;
};

describe('Siamese models on ONNX Runtime', () => {
  it('SiameseNetwork (unit-length embeddings) and SiameseClassifier (two inputs) match ORT', async () => {
    manualSeed(4);
    const emb = new SiameseNetwork(net());
    const clf = new SiameseClassifier(net(), 8);
    emb.eval(); clf.eval();
    const a = randn([3, 1, 8, 8]), b = randn([3, 1, 8, 8]);
    const e = await createSession(exportOnnx(emb, a, { dynamicAxes: true }));
    const errE = maxRel((await runSession(e, { input: a })).output!, noGrad(() => emb.forward(a)));
    const c = await createSession(exportOnnx(clf, [a, b], { dynamicAxes: true }));
    const errC = maxRel((await runSession(c, { input_0: a, input_1: b })).output!, noGrad(() => clf.forward(a, b)));
    console.log(`ONNX Siamese: embedding relative error ${errE.toExponential(2)}, classifier ${errC.toExponential(2)}`);
    expect(errE).toBeLessThan(1e-5);
    expect(errC).toBeLessThan(1e-5);
  });
});
