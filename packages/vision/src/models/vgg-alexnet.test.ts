/**
 * Torchvision parity of the big-classifier models (VGG-11/16/16-BN: 133–138 M parameters,
 * AlexNet: 61 M): keys, shapes and counts on the full-size models, and outputs equal to PyTorch's
 * on small inputs (32×32, AlexNet 63×63 — their adaptive pools then replicate a 1×1 map).
 * One model per test, built once under withoutInit: the hash weights replace the initial ones, so
 * the 530 M random draws of the four models would be thrown away.
 */
import { describe, expect, it } from 'vitest';
import { withoutInit } from '@kiln/nn';
import { alexnet, vgg11, vgg16, vgg16Bn } from './index.js';
import { hashInput } from './test-utils/hash-weights.js';
import { expectTorchvisionKeys, paramCount, parityError } from './test-utils/fixtures.js';

describe('zoo: VGG and AlexNet match torchvision', () => {
  it('vgg16: 138,357,544 parameters, torchvision keys, output to 1e-4', async () => {
    const m = withoutInit(() => vgg16());
    expect(paramCount(m)).toBe(138_357_544);
    // zeros until loaded: running it before is an error, not a constant output
    expect(() => m.forward(hashInput([1, 3, 32, 32]))).toThrow(/Kiln: VGG.forward: 32 of its 32 parameters and buffers were built under withoutInit/);
    expectTorchvisionKeys(m, 'vgg16');
    expect(await parityError(m, 'vgg16', [1, 3, 32, 32])).toBeLessThan(1e-4);
  });

  it('vgg11 and vgg16Bn: torchvision keys and counts, output to 1e-4', async () => {
    let m = withoutInit(() => vgg11());
    expectTorchvisionKeys(m, 'vgg11');
    expect(await parityError(m, 'vgg11', [1, 3, 32, 32])).toBeLessThan(1e-4);
    m = withoutInit(() => vgg16Bn());
    expectTorchvisionKeys(m, 'vgg16_bn');
    expect(await parityError(m, 'vgg16_bn', [1, 3, 32, 32])).toBeLessThan(1e-4);
  });

  it('alexnet: 61,100,840 parameters, torchvision keys, output to 1e-4', async () => {
    const m = withoutInit(() => alexnet());
    expect(paramCount(m)).toBe(61_100_840);
    expectTorchvisionKeys(m, 'alexnet');
    expect(await parityError(m, 'alexnet', [1, 3, 63, 63])).toBeLessThan(1e-4);
  });

  it('alexnet({ lrn: true }): the 2012 LocalResponseNorm form matches PyTorch (torchvision AlexNet + nn.LocalResponseNorm)', async () => {
    const m = alexnet({ lrn: true, numClasses: 10 });
    expect(m.features.length).toBe(15);
    expect(await parityError(m, 'alexnet_lrn', [2, 3, 63, 63])).toBeLessThan(1e-4);
  });
});
