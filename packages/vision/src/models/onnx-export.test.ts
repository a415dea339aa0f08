/**
 * Every zoo family exports to ONNX (opset 18, dynamic batch), matches ONNX Runtime at batch 1
 * and 3 to 1e-4 (relative to the output's magnitude), imports back through importOnnx with the
 * same outputs, and the imported model trains (a few normalised gradient steps lower the loss).
 * Weights are the hash weights (random BatchNorm statistics included). Small variants: reduced
 * widths for AlexNet/VGG (their 6×6 / 7×7 adaptive pools need 224×224 inputs to export, as in
 * PyTorch), full widths elsewhere on small images.
 */
import { describe, expect, it } from 'vitest';
import { crossEntropy, type Module } from '@kiln/nn';
import { createSession, decodeModel, exportOnnx, importOnnx, runSession } from '@kiln/onnx';
import { noGrad, tensor, type Tensor } from '@kiln/tensor';
import {
  alexnet, efficientnet, efficientnetB0, googlenet, lenet5, mobilenetV1, mobilenetV2, resnet18, resnet34, resnet50, vgg11, vgg16, vgg16Bn,
} from './index.js';
import { hashFill, hashInput } from './test-utils/hash-weights.js';
import { relativeError } from './test-utils/fixtures.js';

/** A few steps of p ← p − η·g/‖g‖ on the cross-entropy of fixed labels; returns the losses. */
function trainSteps(model: Module, x: Tensor, steps = 3, eta = 0.02): number[] {
  const labels = tensor(Array.from({ length: x.shape[0]! }, (_, i) => i % 2), { dtype: 'int32' });
  const losses: number[] = [];
  for (let s = 0; s <= steps; s++) {
    model.zeroGrad();
    const loss = crossEntropy(model.forward(x) as Tensor, labels);
    losses.push(loss.item());
    if (s === steps) break;
    loss.backward();
    const params = model.parameters().filter((p) => p.grad);
    const norm = Math.sqrt(params.reduce((a, p) => a + p.grad!.square().sum().item(), 0));
    noGrad(() => { for (const p of params) p.sub_(p.grad!.mul(eta / norm)); });
  }
  return losses;
}

const CASES: [string, () => Module, number[]][] = [
  ['lenet5 classic', () => lenet5(), [1, 32, 32]],
  ['lenet5 modern', () => lenet5({ variant: 'modern' }), [1, 32, 32]],
  ['alexnet (widths/8)', () => alexnet({ widthDivisor: 8, hidden: 64, numClasses: 10 }), [3, 224, 224]],
  ['alexnet + LRN (widths/8)', () => alexnet({ lrn: true, widthDivisor: 8, hidden: 64, numClasses: 10 }), [3, 224, 224]],
  ['vgg11 (widths/8)', () => vgg11({ widthDivisor: 8, hidden: 64, numClasses: 10 }), [3, 224, 224]],
  ['vgg16 (widths/16)', () => vgg16({ widthDivisor: 16, hidden: 32, numClasses: 10 }), [3, 224, 224]],
  ['vgg16Bn (widths/16)', () => vgg16Bn({ widthDivisor: 16, hidden: 32, numClasses: 10 }), [3, 224, 224]],
  ['resnet18 (widths/4)', () => resnet18({ widthDivisor: 4, numClasses: 10 }), [3, 32, 32]],
  ['resnet34 (widths/8)', () => resnet34({ widthDivisor: 8, numClasses: 10 }), [3, 32, 32]],
  ['resnet50 (widths/4)', () => resnet50({ widthDivisor: 4, numClasses: 10 }), [3, 32, 32]],
  ['googlenet (transformInput)', () => googlenet({ numClasses: 10, transformInput: true }), [3, 64, 64]],
  ['mobilenetV1 α=0.25', () => mobilenetV1({ alpha: 0.25, numClasses: 10 }), [3, 32, 32]],
  ['mobilenetV2 ×0.25', () => mobilenetV2({ widthMult: 0.25, numClasses: 10 }), [3, 32, 32]],
  ['mobilenetV2 (full width)', () => mobilenetV2(), [3, 32, 32]],
  ['mobilenetV2 reduced (5 stages, stem stride 1, 256-wide head)', () => mobilenetV2({
    numClasses: 4, widthMult: 0.5, stemStride: 1, lastChannel: 256,
    invertedResidualSetting: [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1]],
  }), [3, 32, 32]],
  ['efficientnetB0', () => efficientnetB0({ numClasses: 10 }), [3, 32, 32]],
  ['efficientnet(1) ×0.5 width', () => efficientnet(1, { widthMult: 0.5, numClasses: 10 }), [3, 32, 32]],
];

describe('zoo: ONNX export (opset 18, dynamic batch), ONNX Runtime parity, import and training', () => {
  for (const [name, make, chw] of CASES) {
    it(`${name}`, async () => {
      const model = make();
      hashFill(model.stateDict());
      model.eval();
      const x1 = hashInput([1, ...chw]);
      const x3 = hashInput([3, ...chw]);
      const bytes = exportOnnx(model, x1, { opset: 18, dynamicAxes: true });
      const proto = decodeModel(bytes);
      expect(proto.opsetImport![0]!.version).toBe(18);
      expect(proto.graph!.input![0]!.type!.tensorType!.shape!.dim![0]!.dimParam).toBe('batch');
      const session = await createSession(bytes);
      const errs: number[] = [];
      let ours3: Tensor | undefined;
      for (const x of [x1, x3]) {
        const ours = noGrad(() => model.forward(x) as Tensor);
        const ort = (await runSession(session, { input: x })).output!;
        errs.push(relativeError(ort, ours));
        ours3 = ours; // the batch-3 output, compared with the imported model's below
      }
      const imported = importOnnx(bytes);
      const back = noGrad(() => imported.forward(x3) as Tensor);
      const importErr = relativeError(back, ours3!);
      const losses = trainSteps(imported, x3);
      console.log(`ONNX ${name}: ORT relative error batch 1 ${errs[0]!.toExponential(2)}, batch 3 ${errs[1]!.toExponential(2)}; imported ${importErr.toExponential(2)}; ${(bytes.byteLength / 1e6).toFixed(1)} MB; imported-model losses ${losses.map((l) => l.toPrecision(4)).join(' → ')}`);
      expect(errs[0]).toBeLessThan(1e-4);
      expect(errs[1]).toBeLessThan(1e-4);
      expect(importErr).toBeLessThan(1e-4);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]!);
    });
  }
});
