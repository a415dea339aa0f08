/**
 * Torchvision parity of the mid-size zoo models: exactly torchvision's state-dict keys, order,
 * shapes and parameter counts (full-size models, not run), and eval-mode outputs equal to
 * PyTorch's (computed in float64 by scripts/gen_torchvision_fixtures.py from the same hash
 * weights) within 1e-4 of the output's magnitude. LeNet-5 and MobileNetV1, which torchvision
 * lacks, are compared with PyTorch mirrors written in the script. VGG and AlexNet: vgg-alexnet.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { withoutInit, type Module } from '@kiln/nn';
import {
  efficientnet, efficientnetB0, googlenet, lenet5, mobilenetV1, mobilenetV2, resnet18, resnet34, resnet50,
} from './index.js';
import { hashInput } from './test-utils/hash-weights.js';
import { expectTorchvisionKeys, paramCount, parityError } from './test-utils/fixtures.js';

interface Case {
  name: string;
  make: () => Module;
  tv?: string;
  params?: number;
  input: number[];
}

const CASES: Case[] = [
  { name: 'resnet18', make: () => resnet18(), tv: 'resnet18', params: 11_689_512, input: [2, 3, 32, 32] },
  { name: 'resnet34', make: () => resnet34(), tv: 'resnet34', params: 21_797_672, input: [1, 3, 32, 32] },
  { name: 'resnet50', make: () => resnet50(), tv: 'resnet50', params: 25_557_032, input: [1, 3, 32, 32] },
  { name: 'googlenet', make: () => googlenet(), tv: 'googlenet', params: 6_624_904, input: [1, 3, 64, 64] },
  { name: 'googlenet_transform', make: () => googlenet({ transformInput: true }), input: [1, 3, 64, 64] },
  { name: 'mobilenet_v2', make: () => mobilenetV2(), tv: 'mobilenet_v2', params: 3_504_872, input: [1, 3, 32, 32] },
  { name: 'mobilenet_v2_w025', make: () => mobilenetV2({ widthMult: 0.25, numClasses: 10 }), input: [2, 3, 32, 32] },
  { name: 'efficientnet_b0', make: () => efficientnetB0(), tv: 'efficientnet_b0', params: 5_288_548, input: [1, 3, 32, 32] },
  // torchvision's B1 = width 1.0, depth 1.1 (the paper's rounded pair, not 1.1^φ / 1.2^φ)
  { name: 'efficientnet_b1', make: () => efficientnet(1, { widthMult: 1, depthMult: 1.1 }), tv: 'efficientnet_b1', params: 7_794_184, input: [1, 3, 32, 32] },
  { name: 'mobilenet_v1', make: () => mobilenetV1(), params: 4_231_976, input: [1, 3, 32, 32] },
  { name: 'mobilenet_v1_a050', make: () => mobilenetV1({ alpha: 0.5, numClasses: 10 }), input: [2, 3, 40, 40] },
  { name: 'lenet5_classic', make: () => lenet5(), params: 61_706, input: [2, 1, 32, 32] },
  { name: 'lenet5_modern', make: () => lenet5({ variant: 'modern' }), params: 61_706, input: [2, 1, 32, 32] },
];

describe('zoo: torchvision keys, parameter counts and outputs', () => {
  for (const c of CASES) {
    it(`${c.name}${c.tv ? ': keys, shapes and count equal torchvision\'s;' : ''} output matches PyTorch to 1e-4`, async () => {
      const model = withoutInit(c.make); // the hash weights replace the initial ones
      if (c.tv) expectTorchvisionKeys(model, c.tv);
      if (c.params !== undefined) expect(paramCount(model)).toBe(c.params);
      expect(await parityError(model, c.name, c.input)).toBeLessThan(1e-4);
    });
  }

  it('googlenet with aux heads has torchvision\'s aux1/aux2 keys (13,004,888 parameters); forwardAux returns their logits in training', () => {
    const model = googlenet({ auxLogits: true, numClasses: 1000 });
    expectTorchvisionKeys(model, 'googlenet_aux');
    const out = model.train().forwardAux(hashInput([2, 3, 96, 96]));
    expect(out.logits.shape).toEqual([2, 1000]);
    expect(out.aux1!.shape).toEqual([2, 1000]);
    expect(out.aux2!.shape).toEqual([2, 1000]);
    expect(model.eval().forwardAux(hashInput([1, 3, 64, 64])).aux1).toBeNull();
  });
});
