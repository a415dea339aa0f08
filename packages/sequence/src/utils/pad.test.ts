import { describe, expect, it } from 'vitest';
import { tensor } from '@kiln/tensor';
import { checkGrad, expectClose, randomInput } from '@kiln/tensor/testing';
import { lengthsMask, padSequence, sequenceLengths } from '../index.js';

describe('padSequence (torch.nn.utils.rnn.pad_sequence semantics)', () => {
  const a = tensor([[1, 2], [3, 4], [5, 6]]);
  const b = tensor([[7, 8]]);
  const c = tensor([[9, 10], [11, 12]]);

  it('pads at the end to the longest, time-major by default', () => {
    const p = padSequence([a, b, c]);
    expect(p.shape).toEqual([3, 3, 2]);
    expectClose(p, [[[1, 2], [7, 8], [9, 10]], [[3, 4], [0, 0], [11, 12]], [[5, 6], [0, 0], [0, 0]]]);
    expect(sequenceLengths([a, b, c])).toEqual([3, 1, 2]);
  });

  it('batchFirst and paddingValue; 1-d sequences', () => {
    expectClose(padSequence([b, a], { batchFirst: true, paddingValue: -1 }), [[[7, 8], [-1, -1], [-1, -1]], [[1, 2], [3, 4], [5, 6]]]);
    expectClose(padSequence([tensor([1, 2, 3]), tensor([4])], { batchFirst: true }), [[1, 2, 3], [4, 0, 0]]);
  });

  it('is differentiable: each sequence gets the gradient of its own positions', () => {
    checkGrad((x, y) => padSequence([x, y]).mul(tensor([[[1, 2]], [[3, 4]], [[5, 6]]], { dtype: 'float64' })).sum(), [randomInput([3, 2], 1), randomInput([1, 2], 2)]);
  });

  it('lengthsMask marks real steps', () => {
    expectClose(lengthsMask([3, 1], 3), [[1, 1], [1, 0], [1, 0]]);
    expectClose(lengthsMask([3, 1], 3, { batchFirst: true }), [[1, 1, 1], [1, 0, 0]]);
    // lengths beyond T used to be cut silently; a fractional T made a broken buffer
    expect(() => lengthsMask([4, 1], 3)).toThrow(/^Kiln: lengthsMask: lengths\[0\] = 4 must be an integer in 0\.\.3 \(T\)$/);
    expect(() => lengthsMask([2, 1.5], 3)).toThrow(/^Kiln: lengthsMask: lengths\[1\] = 1\.5 must be an integer in 0\.\.3 \(T\)$/);
    expect(() => lengthsMask([1], 2.5)).toThrow(/^Kiln: lengthsMask: T must be an integer >= 0, got 2\.5$/);
  });

  it('errors name the function and the shapes', () => {
    expect(() => padSequence([])).toThrow('Kiln: padSequence: sequences must be a non-empty array of tensors');
    expect(() => padSequence([a, tensor([[1, 2, 3]])])).toThrow('Kiln: padSequence: sequences[1] has shape [1,3], expected [L, 2] like sequences[0] [3,2]');
    expect(() => padSequence([a], { batch_first: true } as never)).toThrow("Kiln: padSequence: unknown option 'batch_first'");
  });
});
