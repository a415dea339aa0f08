import { expect, it } from 'vitest';
import { getBackend, groupNorm, localResponseNorm, tensor, type Tensor } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

/** Direct loops: group norm of [N, C, M] (M = product of the rest). */
function naiveGroupNorm(x: Tensor, g: number, w: number[] | null, b: number[] | null, eps: number): number[] {
  const [n, c] = x.shape as [number, number];
  const m = x.numel() / (n * c);
  const d = Array.from(x.dataSync(), Number);
  const out = new Array<number>(d.length);
  const per = (c / g) * m;
  for (let i = 0; i < n * g; i++) {
    const seg = d.slice(i * per, (i + 1) * per);
    const mu = seg.reduce((a, v) => a + v, 0) / per;
    const v = seg.reduce((a, t) => a + (t - mu) ** 2, 0) / per;
    for (let j = 0; j < per; j++) {
      const ch = ((i % g) * (c / g)) + Math.floor(j / m);
      out[i * per + j] = ((seg[j]! - mu) / Math.sqrt(v + eps)) * (w ? w[ch]! : 1) + (b ? b[ch]! : 0);
    }
  }
  return out;
}

/** Direct loops: PyTorch's LRN window c − ⌊size/2⌋ … c + ⌊(size−1)/2⌋. */
function naiveLrn(x: Tensor, size: number, alpha: number, beta: number, k: number): number[] {
  const [n, c] = x.shape as [number, number];
  const m = x.numel() / (n * c);
  const d = Array.from(x.dataSync(), Number);
  const out = new Array<number>(d.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let cc = ch - Math.floor(size / 2); cc <= ch + Math.floor((size - 1) / 2); cc++) {
      if (cc >= 0 && cc < c) s += d[(b * c + cc) * m + j]! ** 2;
    }
    const i = (b * c + ch) * m + j;
    out[i] = d[i]! / (k + (alpha / size) * s) ** beta;
  }
  return out;
}

forEachBackend('groupNorm and localResponseNorm', (backend) => {
  it('runs on its backend', () => expect(getBackend().name).toBe(backend));

  it('groupNorm matches direct loops (affine and not, 3-d and 4-d)', () => {
    const x = randomInput([2, 6, 3, 2], 3, -2, 2);
    const w = [0.5, -1, 2, 1.5, 0.1, 1], b = [0, 1, -1, 0.5, 0.2, -0.3];
    const got = groupNorm(x, 3, tensor(w, { dtype: 'float64' }), tensor(b, { dtype: 'float64' }), 1e-5);
    expectClose(got, tensor(naiveGroupNorm(x, 3, w, b, 1e-5), { dtype: 'float64' }).reshape(x.shape), { atol: 1e-12, rtol: 1e-10 });
    const x3 = randomInput([3, 4, 5], 4);
    expectClose(groupNorm(x3, 2), tensor(naiveGroupNorm(x3, 2, null, null, 1e-5), { dtype: 'float64' }).reshape(x3.shape), { atol: 1e-12, rtol: 1e-10 });
    const f32 = groupNorm(x.detach().to('float32'), 1);
    expect(f32.dtype).toBe('float32');
    expectClose(f32, tensor(naiveGroupNorm(x, 1, null, null, 1e-5), { dtype: 'float64' }).reshape(x.shape), { atol: 1e-5 });
  });

  it('groupNorm gradients (input, weight, bias)', () => {
    checkGrad((x, w, b) => groupNorm(x, 2, w, b).mul(randomInput([2, 4, 3], 9).detach()).sum(),
      [randomInput([2, 4, 3], 5), randomInput([4], 6), randomInput([4], 7)]);
  });

  it('localResponseNorm matches direct loops for odd and even sizes, 3-d to 5-d', () => {
    for (const [shape, size] of [[[2, 7, 3, 3], 5], [[2, 6, 4], 2], [[1, 5, 2, 2, 2], 4], [[2, 3, 2, 2], 7]] as [number[], number][]) {
      const x = randomInput(shape, size, -2, 2);
      expectClose(localResponseNorm(x, size, 0.3, 0.75, 2), tensor(naiveLrn(x, size, 0.3, 0.75, 2), { dtype: 'float64' }).reshape(shape), { atol: 1e-12, rtol: 1e-10 });
    }
    const x = randomInput([1, 4, 2, 2], 11).detach().to('float32');
    expectClose(localResponseNorm(x, 3), tensor(naiveLrn(x, 3, 1e-4, 0.75, 1), { dtype: 'float64' }).reshape(x.shape));
  });

  it('localResponseNorm with k ≤ 0 or alpha < 0 (the pow path) matches direct loops', () => {
    const x = randomInput([2, 5, 3], 21, 0.5, 2);
    for (const [alpha, beta, k] of [[0.5, 2, 0], [-0.1, 0.75, 3], [1, 0, 0]] as const) {
      expectClose(localResponseNorm(x, 3, alpha, beta, k), tensor(naiveLrn(x, 3, alpha, beta, k), { dtype: 'float64' }).reshape(x.shape), { atol: 1e-12, rtol: 1e-10 });
    }
  });

  it('localResponseNorm gradients', () => {
    checkGrad((x) => localResponseNorm(x, 3, 0.5, 0.75, 1).sum(), [randomInput([2, 5, 2, 2], 12, -1.5, 1.5)]);
    checkGrad((x) => localResponseNorm(x, 2, 1, 0.5, 2).mul(x).sum(), [randomInput([1, 4, 3], 13)]);
  });
});

it('bad input names the op, the argument and the values', () => {
  const x = randomInput([2, 6, 3], 1);
  expect(() => groupNorm(x, 4)).toThrow(/Kiln: groupNorm: channels 6 of input \[2, ?6, ?3\] are not divisible by numGroups 4/);
  expect(() => groupNorm(x, 0)).toThrow(/Kiln: groupNorm: numGroups must be a positive integer, got 0/);
  expect(() => groupNorm(x, 2, tensor([1, 2]))).toThrow(/Kiln: groupNorm: weight must have shape \[6\]/);
  expect(() => groupNorm(tensor([1, 2], { dtype: 'int32' }), 1)).toThrow(/Kiln: groupNorm: expected a float32 or float64 input, got int32/);
  expect(() => localResponseNorm(tensor([[1, 2]]), 2)).toThrow(/Kiln: localResponseNorm: expected an input of at least 3 dims/);
  expect(() => localResponseNorm(x, 2.5)).toThrow(/Kiln: localResponseNorm: size must be a positive integer, got 2.5/);
});
