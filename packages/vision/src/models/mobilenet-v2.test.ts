/**
 * MobileNetV2's reduction options (invertedResidualSetting, stemStride, lastChannel): given their
 * defaults explicitly the model is torchvision's, key for key; otherwise they change exactly the
 * layers they name, keep the key pattern, and bad values fail naming the option.
 */
import { describe, expect, it } from 'vitest';
import { uninitialisedKeys, withoutInit } from '@kiln/nn';
import { noGrad, type Tensor } from '@kiln/tensor';
import { loadTorchvisionWeights } from '../weights.js';
import { MOBILENET_V2_SETTING, mobilenetV2, type InvertedResidualSetting } from './index.js';
import { hashInput } from './test-utils/hash-weights.js';
import { expectTorchvisionKeys, fixturePath, loadFixture, paramCount, relativeError } from './test-utils/fixtures.js';

const SMALL: InvertedResidualSetting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1]];

describe('mobilenetV2 reduction options', () => {
  it('the defaults given explicitly keep torchvision\'s keys, shapes and 3,504,872 parameters', () => {
    expectTorchvisionKeys(withoutInit(() => mobilenetV2({ invertedResidualSetting: MOBILENET_V2_SETTING, stemStride: 2, lastChannel: 1280 })), 'mobilenet_v2');
  });

  it('invertedResidualSetting and lastChannel set the blocks and the head; keys keep torchvision\'s pattern', () => {
    const m = mobilenetV2({ numClasses: 4, widthMult: 0.5, lastChannel: 256, invertedResidualSetting: SMALL });
    const sd = m.stateDict();
    // stem, 1 + 2 + 2 + 2 + 1 blocks, last conv
    expect(m.features.length).toBe(10);
    expect(sd['features.1.conv.0.0.weight']!.shape).toEqual([16, 1, 3, 3]); // t = 1: no expansion conv
    expect(sd['features.2.conv.0.0.weight']!.shape).toEqual([48, 8, 1, 1]); // 6 × 8 hidden channels
    expect(sd['features.8.conv.2.weight']!.shape).toEqual([48, 192, 1, 1]); // 96 × 0.5 out
    expect(sd['features.9.0.weight']!.shape).toEqual([256, 48, 1, 1]);
    expect(sd['classifier.1.weight']!.shape).toEqual([4, 256]);
    expect(Object.keys(sd).some((k) => k.startsWith('features.10.'))).toBe(false);
    expect(noGrad(() => m.eval().forward(hashInput([2, 3, 32, 32]))).shape).toEqual([2, 4]);
  });

  it('a torch-written state dict of the reduced model (5 stages, stem stride 1, 256-wide head) loads and matches torchvision to 1e-4', async () => {
    // scripts/gen_torchvision_fixtures.py: torchvision's MobileNetV2(inverted_residual_setting=SMALL,
    // width_mult=0.5, num_classes=4) with the stem stride and last conv patched, BatchNorm randomised
    const m = withoutInit(() => mobilenetV2({ numClasses: 4, widthMult: 0.5, invertedResidualSetting: SMALL, stemStride: 1, lastChannel: 256 }));
    expect(paramCount(m)).toBe(68_196);
    const { loaded } = await loadTorchvisionWeights(m, fixturePath('mobilenet_v2_reduced.safetensors'));
    expect(loaded).toBe(Object.keys(m.stateDict()).length);
    expect(uninitialisedKeys(m)).toEqual([]);
    const y = noGrad(() => m.eval().forward(hashInput([2, 3, 32, 32])) as Tensor);
    const err = relativeError(y, (await loadFixture('mobilenet_v2_reduced.out.safetensors')).output!);
    console.log(`mobilenetV2 reduced vs torchvision: relative error ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });

  it('stemStride sets the first conv\'s stride: 1 keeps twice the resolution to the last stage', () => {
    const features = (stemStride: number) => {
      const m = mobilenetV2({ widthMult: 0.25, invertedResidualSetting: SMALL, stemStride }).eval();
      return noGrad(() => m.features.forward(hashInput([1, 3, 32, 32]))).shape;
    };
    expect(features(2)).toEqual([1, 1280, 2, 2]);
    expect(features(1)).toEqual([1, 1280, 4, 4]);
  });

  it('bad values name the option and the value', () => {
    expect(() => mobilenetV2({ invertedResidualSetting: [] })).toThrow(
      /Kiln: mobilenetV2: option 'invertedResidualSetting' must be a non-empty array of \[t, c, n, s\] rows of positive integers, got \[\]/);
    expect(() => mobilenetV2({ invertedResidualSetting: [[6, 24, 2]] as never })).toThrow(/option 'invertedResidualSetting' .* got \[\[6,24,2\]\]/);
    expect(() => mobilenetV2({ invertedResidualSetting: [[6, 24, 0, 2]] })).toThrow(/option 'invertedResidualSetting' .* got \[\[6,24,0,2\]\]/);
    expect(() => mobilenetV2({ stemStride: 0 })).toThrow(/Kiln: mobilenetV2: option 'stemStride' must be a positive integer, got 0/);
    expect(() => mobilenetV2({ lastChannel: 1.5 })).toThrow(/Kiln: mobilenetV2: option 'lastChannel' must be a positive integer, got 1.5/);
    expect(() => mobilenetV2({ stem: 1 } as never)).toThrow(/unknown option 'stem' \(known: .*invertedResidualSetting, stemStride, lastChannel\)/);
  });
});
