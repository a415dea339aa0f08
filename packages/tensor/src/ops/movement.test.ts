/** Movement ops: shapes and values by hand, edge shapes, errors, and a gradcheck for each. */
import { describe, expect, it } from 'vitest';
import {
  arange, cat, chunk, expand, flatten, flip, narrow, pad, permute, repeat, reshape, slice, split, squeeze, stack, transpose,
  tril, triu, unflatten, unsqueeze, view, zeros, tensor, type Tensor,
} from '../index.js';
import { checkGrad, forEachBackend, randomInput } from '../test-utils/index.js';

const r = (...shape: number[]): Tensor => reshape(arange(shape.reduce((a, b) => a * b, 1)), shape);

forEachBackend('movement', () => {
  it('reshape/view share the buffer and infer -1', () => {
    const x = r(2, 3);
    const y = reshape(x, [3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(y.dataSync()).toBe(x.dataSync());
    expect(view(x, [6]).toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(x.view(-1, 1).shape).toEqual([6, 1]);
    expect(reshape(zeros([0, 3]), [3, 0]).shape).toEqual([3, 0]);
    expect(() => reshape(x, [4, -1])).toThrow('Kiln: reshape: cannot reshape [2,3] (6 elements) into [4,-1]');
    expect(() => reshape(x, [-1, -1])).toThrow(/only one dim can be -1/);
  });
  it('flatten/unflatten', () => {
    expect(flatten(r(2, 3, 4)).shape).toEqual([24]);
    expect(flatten(r(2, 3, 4), 1).shape).toEqual([2, 12]);
    expect(flatten(r(2, 3, 4), 0, -2).shape).toEqual([6, 4]);
    expect(flatten(tensor(5)).shape).toEqual([1]);
    expect(unflatten(r(2, 12), -1, [3, -1]).shape).toEqual([2, 3, 4]);
    expect(() => unflatten(r(2, 12), 1, [5, -1])).toThrow(/unflatten/);
    expect(() => flatten(r(2, 3), 1, 0)).toThrow(/flatten: startDim 1 comes after endDim 0/);
  });
  it('squeeze/unsqueeze', () => {
    expect(squeeze(zeros([1, 2, 1])).shape).toEqual([2]);
    expect(squeeze(zeros([1, 2, 1]), -1).shape).toEqual([1, 2]);
    expect(squeeze(zeros([1, 2, 1]), 1).shape).toEqual([1, 2, 1]);
    expect(unsqueeze(zeros([2, 3]), -1).shape).toEqual([2, 3, 1]);
    expect(unsqueeze(zeros([2, 3]), 0).shape).toEqual([1, 2, 3]);
    expect(() => unsqueeze(zeros([2]), 3)).toThrow(/unsqueeze/);
  });
  it('permute/transpose', () => {
    const x = r(2, 3);
    expect(transpose(x, 0, 1).toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(x.t().shape).toEqual([3, 2]);
    const y = permute(r(2, 3, 4), [2, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    expect(y.toArray()).toEqual([[[0, 4, 8], [12, 16, 20]], [[1, 5, 9], [13, 17, 21]], [[2, 6, 10], [14, 18, 22]], [[3, 7, 11], [15, 19, 23]]]);
    expect(permute(r(2, 3), [-1, 0]).shape).toEqual([3, 2]);
    expect(() => permute(x, [0, 0])).toThrow(/permute: dims \[0,0\] repeat a dim/);
    expect(() => permute(x, [0])).toThrow(/permute: expected 2 dims/);
  });
  it('permute passes its gradient back through the inverse permutation, element for element', () => {
    // [B, T, H, D] → [B, H, T, D] as attention splits heads, and a 3-cycle; −0 and NaN come
    // back as they went in (a copy, not a sum into zeros).
    for (const [shape, perm] of [[[2, 3, 4, 5], [0, 2, 1, 3]], [[3, 4, 6], [2, 0, 1]]] as const) {
      const n = shape.reduce((p, d) => p * d, 1);
      const x = tensor(Float32Array.from({ length: n }, (_, i) => i), { shape: [...shape], requiresGrad: true });
      const y = permute(x, [...perm]);
      const gv = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? -0 : i % 11 === 5 ? NaN : (i * 37) % 101 - 50));
      const g = tensor(Float32Array.from(gv), { shape: y.shape });
      y.backward(g);
      // y's element at index (i0, i1, ...) is x's at (i_{perm^-1}...): so x.grad[x index] = g[y index].
      const xs = shape;
      const ys = perm.map((p) => xs[p]!);
      const expected = new Array<number>(n);
      for (let yi = 0; yi < n; yi++) {
        const idx: number[] = [];
        let rest = yi;
        for (let d = ys.length - 1; d >= 0; d--) { idx[d] = rest % ys[d]!; rest = Math.floor(rest / ys[d]!); }
        const xIdx = new Array<number>(xs.length);
        perm.forEach((p, d) => { xIdx[p] = idx[d]!; });
        const xi = xIdx.reduce((acc, v, d) => acc * xs[d]! + v, 0);
        expected[xi] = gv[yi]!;
      }
      const got = Array.from(x.grad!.dataSync());
      got.forEach((v, i) => expect(Object.is(v, expected[i]) || (Number.isNaN(v) && Number.isNaN(expected[i]))).toBe(true));
    }
  });
  it('expand', () => {
    expect(expand(tensor([[1], [2]]), [2, 3]).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(expand(tensor([1, 2]), [2, -1]).toArray()).toEqual([[1, 2], [1, 2]]);
    expect(expand(zeros([1]), [0]).shape).toEqual([0]);
    expect(() => expand(tensor([1, 2]), [3])).toThrow('Kiln: expand: cannot expand [2] to [3]');
  });
  it('slice (negative, clamped, stepped) and narrow', () => {
    const x = arange(6);
    expect(slice(x, 0, 1, 4).toArray()).toEqual([1, 2, 3]);
    expect(slice(x, 0, -2).toArray()).toEqual([4, 5]);
    expect(slice(x, 0, 0, 100, 2).toArray()).toEqual([0, 2, 4]);
    expect(slice(x, -1, 4, 2).toArray()).toEqual([]);
    expect(slice(r(2, 3), 1, 1).toArray()).toEqual([[1, 2], [4, 5]]);
    expect(narrow(r(2, 3), -1, 1, 2).toArray()).toEqual([[1, 2], [4, 5]]);
    expect(narrow(x, 0, -2, 2).toArray()).toEqual([4, 5]);
    expect(() => slice(x, 0, 0, 2, 0)).toThrow(/slice: step must be a positive integer/);
    expect(() => narrow(x, 0, 5, 2)).toThrow(/narrow: start 5 and length 2 do not fit dim 0 of size 6/);
  });
  it('flip', () => {
    expect(flip(r(2, 3), 1).toArray()).toEqual([[2, 1, 0], [5, 4, 3]]);
    expect(flip(r(2, 3), [0, -1]).toArray()).toEqual([[5, 4, 3], [2, 1, 0]]);
    expect(flip(zeros([0, 2]), 0).shape).toEqual([0, 2]);
  });
  it('cat/stack (promotion, empty parts, negative dim)', () => {
    expect(cat([r(1, 2), r(2, 2)]).toArray()).toEqual([[0, 1], [0, 1], [2, 3]]);
    expect(cat([r(2, 1), r(2, 2)], -1).toArray()).toEqual([[0, 0, 1], [1, 2, 3]]);
    expect(cat([zeros([0, 2]), r(1, 2)]).toArray()).toEqual([[0, 1]]);
    expect(cat([tensor([1], { dtype: 'int32' }), tensor([0.5], { dtype: 'float64' })]).dtype).toBe('float64');
    expect(stack([tensor([1, 2]), tensor([3, 4])], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(stack([tensor([1, 2]), tensor([3, 4])], -1).shape).toEqual([2, 2]);
    expect(() => cat([tensor(1), tensor(2)])).toThrow(/cat: zero-dimensional tensors cannot be concatenated/);
    expect(stack([tensor(1), tensor(2)]).toArray()).toEqual([1, 2]);
    expect(() => cat([])).toThrow(/cat: expected a non-empty list/);
    expect(() => cat([r(2, 2), r(2, 3)])).toThrow(/cat: tensor 1 has shape \[2,3\]/);
    expect(() => stack([r(2), r(3)])).toThrow(/stack: tensor 1 has shape \[3\], expected \[2\]/);
  });
  it('split/chunk', () => {
    expect(split(arange(5), 2).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4]]);
    expect(split(arange(5), [1, 4]).map((t) => t.shape)).toEqual([[1], [4]]);
    expect(chunk(arange(5), 3).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4]]);
    expect(chunk(r(2, 4), 2, -1).map((t) => t.toArray())).toEqual([[[0, 1], [4, 5]], [[2, 3], [6, 7]]]);
    expect(() => split(arange(5), [1, 2])).toThrow(/split: sizes \[1,2\] do not add up/);
    expect(() => chunk(arange(5), 0)).toThrow(/chunk: chunks must be a positive integer/);
  });
  it('repeat tiles and can add leading dims', () => {
    expect(repeat(tensor([1, 2]), [2]).toArray()).toEqual([1, 2, 1, 2]);
    expect(repeat(tensor([[1, 2]]), [2, 2]).toArray()).toEqual([[1, 2, 1, 2], [1, 2, 1, 2]]);
    expect(repeat(tensor([1, 2]), [2, 1]).toArray()).toEqual([[1, 2], [1, 2]]);
    expect(() => repeat(r(2, 2), [2])).toThrow(/repeat: expected at least 2 repeats/);
  });
  it('tril/triu with diagonals and batches', () => {
    const x = reshape(arange(1, 10), [3, 3]);
    expect(tril(x).toArray()).toEqual([[1, 0, 0], [4, 5, 0], [7, 8, 9]]);
    expect(triu(x, 1).toArray()).toEqual([[0, 2, 3], [0, 0, 6], [0, 0, 0]]);
    expect(tril(x, -1).toArray()).toEqual([[0, 0, 0], [4, 0, 0], [7, 8, 0]]);
    expect(triu(zeros([2, 2, 3]).add(1)).toArray()).toEqual([[[1, 1, 1], [0, 1, 1]], [[1, 1, 1], [0, 1, 1]]]);
    expect(() => tril(arange(3))).toThrow(/tril: expected at least 2 dims/);
  });
  it('pad: constant (value, negative pads), reflect, replicate, circular', () => {
    const x = tensor([1, 2, 3]);
    expect(pad(x, [2, 1]).toArray()).toEqual([0, 0, 1, 2, 3, 0]);
    expect(pad(x, [1, 1], 'constant', 9).toArray()).toEqual([9, 1, 2, 3, 9]);
    expect(pad(x, [-1, 2], 'constant', 7).toArray()).toEqual([2, 3, 7, 7]);
    expect(pad(x, [2, 2], 'reflect').toArray()).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(pad(x, [2, 1], 'replicate').toArray()).toEqual([1, 1, 1, 2, 3, 3]);
    expect(pad(x, [2, 4], 'circular').toArray()).toEqual([2, 3, 1, 2, 3, 1, 2, 3, 1]);
    expect(pad(x, [-1, 1], 'replicate').toArray()).toEqual([2, 3, 3]);
    expect(pad(r(2, 2), [1, 0, 0, 1]).toArray()).toEqual([[0, 0, 1], [0, 2, 3], [0, 0, 0]]);
    expect(() => pad(x, [1])).toThrow(/pad: expected an even number of pads/);
    expect(() => pad(x, [3, 0], 'reflect')).toThrow(/pad: reflect padding/);
    expect(() => pad(x, [-2, -2])).toThrow(/pad: pads \[-2,-2\] crop \[3\] below zero/);
  });

  describe('gradchecks (float64)', () => {
    const a = () => randomInput([2, 3, 2], 71);
    it('reshape, view, flatten, unflatten, squeeze, unsqueeze', () => {
      checkGrad((t) => reshape(t, [3, 4]).mul(t.reshape(3, 4)), [a()]);
      checkGrad((t) => flatten(t, 1).square(), [a()]);
      checkGrad((t) => unflatten(t, 1, [3, 1]).square(), [a()]);
      checkGrad((t) => squeeze(unsqueeze(t, 1), 1).square(), [a()]);
    });
    it('permute and transpose', () => {
      checkGrad((t) => permute(t, [2, 0, 1]).mul(randomInput([2, 2, 3], 72).detach()), [a()]);
      checkGrad((t) => transpose(t, 0, -1).square(), [a()]);
    });
    it('expand and repeat', () => {
      checkGrad((t) => expand(t, [2, 2, 3, 2]).square(), [a()]);
      checkGrad((t) => repeat(t, [2, 1, 1, 3]).square(), [a()]);
    });
    it('slice, narrow, flip', () => {
      checkGrad((t) => slice(t, 1, 0, 3, 2).square(), [a()]);
      checkGrad((t) => narrow(t, -1, 1, 1).square(), [a()]);
      checkGrad((t) => flip(t, [0, 2]).mul(randomInput([2, 3, 2], 73).detach()), [a()]);
    });
    it('cat and stack (every input)', () => {
      checkGrad((p, q) => cat([p, q], 1).square(), [randomInput([2, 1, 2], 74), a()]);
      checkGrad((p, q) => stack([p, q], -1).square(), [a(), randomInput([2, 3, 2], 75)]);
    });
    it('split and chunk', () => {
      checkGrad((t) => { const [p, q] = split(t, [1, 2], 1); return p!.sum().mul(q!.square().sum()); }, [a()]);
      checkGrad((t) => { const [p, q] = chunk(t, 2, 0); return p!.mul(q!.exp()); }, [a()]);
    });
    it('tril and triu', () => {
      checkGrad((t) => tril(t, 0).square(), [randomInput([3, 3], 76)]);
      checkGrad((t) => triu(t, -1).square(), [randomInput([2, 3, 3], 77)]);
    });
    it('pad, every mode and negative pads', () => {
      for (const mode of ['constant', 'reflect', 'replicate', 'circular'] as const) {
        checkGrad((t) => pad(t, [1, 1, 1, 0], mode, 0.5).square(), [randomInput([2, 2, 3], 78)]);
        checkGrad((t) => pad(t, [-1, 1], mode).square(), [randomInput([2, 3], 79)]);
      }
    });
  });
});
