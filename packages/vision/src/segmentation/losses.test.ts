/** Segmentation losses and metrics: hand-computed values, float64 gradchecks, mask-shape errors. */
import { describe, expect, it } from 'vitest';
import { tensor } from '@kiln/tensor';
import { checkGrad, randomInput } from '@kiln/tensor/testing';
import { crossEntropy } from '@kiln/nn';
import { diceLoss, iouPerClass, meanIou, pixelCrossEntropy } from './index.js';

const mask = tensor([[[0, 1], [1, 2]], [[2, 2], [0, 0]]], { dtype: 'int32' }); // [2, 2, 2]

describe('iouPerClass / meanIou', () => {
  it('counts intersections and unions over the batch (hand-computed); absent classes are NaN and skipped', () => {
    const pred = tensor([[[0, 1], [2, 2]], [[2, 1], [0, 0]]], { dtype: 'int32' });
    // class 0: pred {0,6,7} target {0,6,7} → 3/3; class 1: pred {1,5} target {1,2} → 1/3; class 2: pred {2,3,4} target {3,4,5} → 2/4
    expect(iouPerClass(pred, mask)).toEqual([1, 1 / 3, 0.5]);
    expect(meanIou(pred, mask)).toBeCloseTo((1 + 1 / 3 + 0.5) / 3, 12);
    expect(iouPerClass(pred, mask, { numClasses: 4 })[3]).toBeNaN();
    expect(meanIou(pred, mask, { numClasses: 4 })).toBeCloseTo((1 + 1 / 3 + 0.5) / 3, 12);
    // ignoreIndex drops target-0 pixels
    expect(iouPerClass(pred, mask, { ignoreIndex: 0 })).toEqual([NaN, 1 / 3, 0.5]);
  });

  it('takes logits [N, C, H, W] (argmax over classes)', () => {
    const logits = tensor([[[[5, 0], [0, 0]], [[0, 5], [5, 0]], [[0, 0], [0, 5]]], [[[0, 0], [5, 5]], [[0, 0], [0, 0]], [[5, 5], [0, 0]]]]);
    expect(meanIou(logits, mask)).toBe(1);
  });
});

describe('pixelCrossEntropy and diceLoss', () => {
  it('pixelCrossEntropy is cross-entropy over pixels', () => {
    const x = randomInput([2, 3, 2, 2], 1);
    expect(pixelCrossEntropy(x, mask).item()).toBeCloseTo(crossEntropy(x.permute([0, 2, 3, 1]).reshape([8, 3]), mask.reshape([8])).item(), 12);
  });

  it('diceLoss: near 0 for confident right logits, near 1 for confident wrong ones; per-class values', () => {
    const right = tensor([[[[9, -9], [-9, -9]], [[-9, 9], [9, -9]], [[-9, -9], [-9, 9]]], [[[-9, -9], [9, 9]], [[-9, -9], [-9, -9]], [[9, 9], [-9, -9]]]], { dtype: 'float64' });
    expect(diceLoss(right, mask, { smooth: 0 }).item()).toBeLessThan(1e-6);
    const wrong = right.neg().mul(100);
    expect(diceLoss(wrong, mask, { smooth: 0 }).item()).toBeGreaterThan(0.99);
    // uniform probabilities 1/3: class c with n_c target pixels: 1 − 2·(n_c/3) / (8/3 + n_c)
    const per = diceLoss(tensor(new Float64Array(24), { shape: [2, 3, 2, 2] }), mask, { smooth: 0, reduction: 'none' }).dataSync();
    const counts = [3, 2, 3];
    counts.forEach((n, c) => expect(per[c]).toBeCloseTo(1 - (2 * n / 3) / (8 / 3 + n), 12));
    expect(diceLoss(tensor(new Float64Array(24), { shape: [2, 3, 2, 2] }), mask, { smooth: 0, includeBackground: false, reduction: 'none' }).shape).toEqual([2]);
  });

  it('gradcheck (float64)', () => {
    const x = randomInput([2, 3, 2, 2], 2, -2, 2);
    checkGrad((t) => diceLoss(t, mask), [x]);
    checkGrad((t) => diceLoss(t, mask, { includeBackground: false, smooth: 0.5 }), [x]);
    checkGrad((t) => pixelCrossEntropy(t, mask).add(diceLoss(t, mask)), [x]);
  });

  it('masks of the wrong size or type are errors naming the function and both shapes', () => {
    const x = randomInput([2, 3, 2, 2], 3);
    expect(() => diceLoss(x, tensor(new Int32Array(8), { dtype: 'int32' }).reshape([2, 4]))).toThrow(/Kiln: diceLoss: target mask must have shape \[N, H, W\] = \[2,2,2\] to match logits \[2,3,2,2\], got \[2,4\]/);
    expect(() => pixelCrossEntropy(x, tensor(new Int32Array(18), { dtype: 'int32' }).reshape([2, 3, 3]))).toThrow(/pixelCrossEntropy: target mask must have shape \[N, H, W\] = \[2,2,2\] to match logits \[2,3,2,2\], got \[2,3,3\]/);
    expect(() => meanIou(x, mask.narrow(0, 0, 1))).toThrow(/iouPerClass: target mask must have shape \[N, H, W\] = \[2,2,2\] to match logits \[2,3,2,2\], got \[1,2,2\]/);
    expect(() => diceLoss(x, mask.to('float32'))).toThrow(/diceLoss: target mask must be int32 class indices, got dtype float32/);
    expect(() => diceLoss(x, mask.add(1))).toThrow(/diceLoss: mask value 3 at flat index \d+ is outside \[0, 3\) for 3 classes/);
    expect(() => diceLoss(x.reshape([2, 3, 4]), mask)).toThrow(/diceLoss: logits must be a tensor \[N, C, H, W\], got shape \[2,3,4\]/);
    expect(() => diceLoss(x, mask, { smoth: 1 } as never)).toThrow(/diceLoss: unknown option 'smoth'/);
  });
});
