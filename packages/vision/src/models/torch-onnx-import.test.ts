/**
 * ONNX files exported by PyTorch itself (torch.onnx.export, opset 17, dynamic batch; made by
 * scripts/gen_torchvision_fixtures.py from torchvision's models and the script's LeNet-5) import
 * through importOnnx, match PyTorch's outputs to 1e-4, and train. To keep the fixtures small,
 * the initializers named after state-dict keys were emptied and are refilled here from the same
 * hash weights; mobilenet_v2_w025.onnx is complete, exactly as torch wrote it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crossEntropy } from '@kiln/nn';
import { decodeModel, encodeModel, importOnnx, type OnnxModule } from '@kiln/onnx';
import { noGrad, tensor, type Tensor } from '@kiln/tensor';
import { hashInput, hashUniform, hashValueRule } from './test-utils/hash-weights.js';
import { fixturePath, loadFixture, relativeError } from './test-utils/fixtures.js';

const FLOAT = 1;

/** The torch export with its emptied float initializers refilled from the hash weights. */
function refilled(name: string): Uint8Array {
  const proto = decodeModel(new Uint8Array(readFileSync(fixturePath(`onnx/${name}.onnx`))));
  const inits = proto.graph!.initializer!;
  const names = new Set(inits.map((t) => t.name!));
  let filled = 0;
  for (const t of inits) {
    if (t.dataType !== FLOAT || (t.rawData?.byteLength ?? 0) > 0) continue;
    const dims = (t.dims ?? []).map(Number);
    const n = dims.reduce((a, b) => a * b, 1);
    const key = t.name!;
    const data = new Float32Array(n);
    hashUniform(key, data, hashValueRule(key, dims, names.has(`${key.slice(0, key.lastIndexOf('.'))}.running_mean`)));
    t.rawData = new Uint8Array(data.buffer);
    filled++;
  }
  expect(filled).toBeGreaterThan(0);
  return encodeModel(proto);
}

function trainsOneStep(m: OnnxModule, x: Tensor): [number, number] {
  const labels = tensor(Array.from({ length: x.shape[0]! }, (_, i) => i % 2), { dtype: 'int32' });
  const loss0 = crossEntropy(m.forward(x) as Tensor, labels);
  loss0.backward();
  const params = m.parameters().filter((p) => p.grad);
  const norm = Math.sqrt(params.reduce((a, p) => a + p.grad!.square().sum().item(), 0));
  noGrad(() => { for (const p of params) p.sub_(p.grad!.mul(0.01 / norm)); });
  const loss1 = noGrad(() => crossEntropy(m.forward(x) as Tensor, labels));
  return [loss0.item(), loss1.item()];
}

// [file, input shape, train a step]: AlexNet and VGG (61 M / 120 M parameters at 224×224) only
// import and match here — a training step on them costs a minute; Kiln's own exports of both
// families train after import in onnx-export.test.ts.
const CASES: [string, number[], boolean][] = [
  ['lenet5_modern', [3, 1, 32, 32], true],
  ['alexnet', [1, 3, 224, 224], false],
  ['vgg_small_bn', [1, 3, 224, 224], false],
  ['resnet18', [3, 3, 32, 32], true],
  ['resnet50', [3, 3, 32, 32], true],
  ['googlenet', [3, 3, 64, 64], true],
  ['mobilenet_v2_w025_hash', [3, 3, 32, 32], true],
  ['efficientnet_b0', [3, 3, 32, 32], true],
];

describe('ONNX files exported by PyTorch (opset 17) import, match PyTorch and train', () => {
  for (const [name, shape, train] of CASES) {
    it(`${name}${train ? ' (and trains a step)' : ''}`, async () => {
      const m = importOnnx(refilled(name));
      const x = hashInput(shape);
      const ref = (await loadFixture('onnx/outputs.safetensors'))[name]!;
      const err = relativeError(noGrad(() => m.forward(x) as Tensor), ref);
      const [l0, l1] = train ? trainsOneStep(m, x) : [NaN, NaN];
      console.log(`torch ONNX ${name}: relative error ${err.toExponential(2)}${train ? `; loss ${l0.toPrecision(4)} → ${l1.toPrecision(4)}` : ''}`);
      expect(err).toBeLessThan(1e-4);
      if (train) expect(l1).toBeLessThan(l0);
    });
  }

  it('mobilenet_v2_w025.onnx, complete as torch wrote it (random init, randomised BatchNorm)', async () => {
    const m = importOnnx(new Uint8Array(readFileSync(fixturePath('onnx/mobilenet_v2_w025.onnx'))));
    expect(Object.keys(m.stateDict())).toContain('features.1.conv.0.0.weight');
    const ref = (await loadFixture('onnx/outputs.safetensors')).mobilenet_v2_w025!;
    const err = relativeError(noGrad(() => m.forward(hashInput([3, 3, 32, 32])) as Tensor), ref);
    console.log(`torch ONNX mobilenet_v2_w025 (complete file): relative error ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });
});
