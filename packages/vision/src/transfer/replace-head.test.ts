import { describe, expect, it } from 'vitest';
import { Linear, Module, Sequential } from '@kiln/nn';
import { noGrad, type Tensor } from '@kiln/tensor';
import {
  alexnet, efficientnetB0, googlenet, lenet5, mobilenetV1, mobilenetV2, resnet18, vgg11,
} from '../models/index.js';
import { hashInput } from '../models/test-utils/hash-weights.js';
import { replaceHead } from './replace-head.js';

const CASES: [string, () => Module, string, number[]][] = [
  ['lenet5', () => lenet5(), 'classifier.2', [2, 1, 32, 32]],
  ['alexnet', () => alexnet({ widthDivisor: 16, hidden: 32 }), 'classifier.6', [2, 3, 63, 63]],
  ['vgg11', () => vgg11({ widthDivisor: 16, hidden: 32 }), 'classifier.6', [2, 3, 32, 32]],
  ['resnet18', () => resnet18({ numClasses: 10 }), 'fc', [2, 3, 32, 32]],
  ['googlenet', () => googlenet({ numClasses: 10, auxLogits: true }), 'fc', [2, 3, 64, 64]],
  ['mobilenetV1', () => mobilenetV1({ alpha: 0.25, numClasses: 10 }), 'classifier.1', [2, 3, 32, 32]],
  ['mobilenetV2', () => mobilenetV2({ widthMult: 0.25, numClasses: 10 }), 'classifier.1', [2, 3, 32, 32]],
  ['efficientnetB0', () => efficientnetB0({ numClasses: 10 }), 'classifier.1', [2, 3, 32, 32]],
];

describe('replaceHead', () => {
  for (const [name, make, key, input] of CASES) {
    it(`${name}: a fresh ${key} with 5 outputs; every other tensor is kept`, () => {
      const model = make().eval();
      const before = model.stateDict();
      const keys = Object.keys(before);
      const head = replaceHead(model, 5);
      expect(head).toBeInstanceOf(Linear);
      expect(head.outFeatures).toBe(5);
      const after = model.stateDict();
      expect(Object.keys(after)).toEqual(keys); // same keys, same order
      expect(after[`${key}.weight`]).toBe(head.weight);
      expect(after[`${key}.weight`]!.shape[0]).toBe(5);
      for (const k of keys) if (!k.startsWith(`${key}.`) && !/^aux\d\.fc2\./.test(k)) expect(after[k], k).toBe(before[k]);
      expect(head.weight.requiresGrad).toBe(true);
      const y = noGrad(() => model.forward(hashInput(input)) as Tensor);
      expect(y.shape).toEqual([input[0], 5]);
    });
  }

  it('googlenet: the aux heads get 5-way final layers too', () => {
    const model = googlenet({ numClasses: 10, auxLogits: true });
    replaceHead(model, 5);
    expect(model.aux1!.fc2.outFeatures).toBe(5);
    expect(model.aux2!.fc2.outFeatures).toBe(5);
  });

  it('bad input: non-zoo modules and bad class counts', () => {
    expect(() => replaceHead(new Sequential(new Linear(2, 2)), 3)).toThrow(/Kiln: replaceHead: Sequential is not a zoo model/);
    expect(() => replaceHead(lenet5(), 0)).toThrow(/numClasses must be a positive integer, got 0/);
    expect(() => replaceHead(lenet5(), 2.5)).toThrow(/got 2.5/);
  });
});
