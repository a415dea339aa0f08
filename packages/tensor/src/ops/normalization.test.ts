import { expect, it } from 'vitest';
import { getBackend, groupNorm, layerNorm, localResponseNorm, tensor, traceOps, type Tensor, type TraceRecord } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';
import { layerNormGoldens } from '../test-utils/layer-norm-golden.js';

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

/** Layer norm from primitives, as it was written before the fused op: the reference for its values and gradients. */
function layerNormComposite(x: Tensor, k: number, w: Tensor | null, b: Tensor | null, eps: number): Tensor {
  const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  let y = x.sub(x.mean(dims, true)).div(x.var(dims, { correction: 0, keepdim: true }).add(eps).sqrt());
  if (w) y = y.mul(w);
  if (b) y = y.add(b);
  return y;
}

/** Forward and every gradient of sum(layerNorm(...) · g), for the tensors that require grad. */
function layerNormPass(f: typeof layerNormComposite, x: Tensor, k: number, w: Tensor | null, b: Tensor | null, eps: number, g: Tensor): Tensor[] {
  for (const t of [x, w, b]) if (t) t.grad = null;
  const y = f(x, k, w, b, eps);
  y.mul(g).sum().backward();
  return [y, ...[x, w, b].filter((t): t is Tensor => t !== null).map((t) => t.grad!)];
}

forEachBackend('layerNorm', () => {
  for (const c of layerNormGoldens) {
    it(`matches PyTorch's F.layer_norm and its gradients (${c.name}), float64 and float32`, () => {
      for (const dtype of ['float64', 'float32'] as const) {
        const tol = dtype === 'float64' ? { atol: 1e-12, rtol: 1e-10 } : { atol: 2e-5, rtol: 2e-5 };
        const x = tensor(c.x, { dtype }).reshape(c.shape).requiresGrad_();
        const w = c.weight ? tensor(c.weight, { dtype }).reshape(c.normalizedShape).requiresGrad_() : null;
        const b = c.bias ? tensor(c.bias, { dtype }).reshape(c.normalizedShape).requiresGrad_() : null;
        const y = layerNorm(x, c.normalizedShape, w, b, c.eps);
        expect(y.dtype).toBe(dtype);
        expectClose(y, tensor(c.y, { dtype: 'float64' }).reshape(c.shape), tol);
        y.mul(tensor(c.g, { dtype }).reshape(c.shape)).sum().backward();
        expectClose(x.grad!, tensor(c.dx, { dtype: 'float64' }).reshape(c.shape), tol);
        if (w) expectClose(w.grad!, tensor(c.dweight!, { dtype: 'float64' }).reshape(c.normalizedShape), tol);
        if (b) expectClose(b.grad!, tensor(c.dbias!, { dtype: 'float64' }).reshape(c.normalizedShape), tol);
      }
    });
  }

  it('gives the composite of primitives\' values and gradients to float32 rounding', () => {
    for (const [shape, k] of [[[37, 64], 1], [[4, 6, 130], 1], [[3, 5, 7], 2], [[9, 3], 1]] as [number[], number][]) {
      const ns = shape.slice(shape.length - k);
      const x = randomInput(shape, shape[0]!, -3, 5).detach().to('float32').requiresGrad_();
      const w = randomInput(ns, 2, 0.5, 1.5).detach().to('float32').requiresGrad_();
      const b = randomInput(ns, 3).detach().to('float32').requiresGrad_();
      const g = randomInput(shape, 4).detach().to('float32');
      for (const [ww, bb] of [[w, b], [null, null], [w, null]] as const) {
        const want = layerNormPass(layerNormComposite, x, k, ww, bb, 1e-5, g);
        const got = layerNormPass((xx, kk, w1, b1, e) => layerNorm(xx, ns, w1, b1, e), x, k, ww, bb, 1e-5, g);
        got.forEach((t, i) => expectClose(t, want[i]!, { atol: 2e-5 * Math.max(1, ...Array.from(want[i]!.dataSync(), (v) => Math.abs(Number(v)))), rtol: 1e-4 }));
      }
    }
  });

  it('gradients (input, weight, bias; 1 and 2 trailing dims; with and without affine; eps 1e-5, 0.1, 0)', () => {
    const g = randomInput([3, 4, 5], 9).detach();
    checkGrad((x, w, b) => layerNorm(x, [5], w, b).mul(g).sum(), [randomInput([3, 4, 5], 5), randomInput([5], 6, 0.5, 1.5), randomInput([5], 7)]);
    checkGrad((x, w, b) => layerNorm(x, [4, 5], w, b, 0.1).mul(g).sum(), [randomInput([3, 4, 5], 8), randomInput([4, 5], 10, 0.5, 1.5), randomInput([4, 5], 11)]);
    checkGrad((x) => layerNorm(x, [4, 5], null, null, 0).mul(g).sum(), [randomInput([3, 4, 5], 12)]);
    checkGrad((x, w) => layerNorm(x, 5, w).mul(g).sum(), [randomInput([3, 4, 5], 13), randomInput([5], 14)]);
    checkGrad((x, b) => layerNorm(x, [5], null, b, 1e-3).mul(g).sum(), [randomInput([3, 4, 5], 15), randomInput([5], 16)]);
  });

  it('an input with no rows gives an empty output and zero parameter gradients', () => {
    const x = tensor([], { dtype: 'float32' }).reshape([0, 4]).requiresGrad_();
    const w = tensor([1, 2, 3, 4], { dtype: 'float32' }).requiresGrad_();
    const b = tensor([0, 0, 0, 0], { dtype: 'float32' }).requiresGrad_();
    const y = layerNorm(x, [4], w, b);
    expect(y.shape).toEqual([0, 4]);
    y.sum().backward();
    expect(Array.from(w.grad!.dataSync())).toEqual([0, 0, 0, 0]);
    expect(Array.from(b.grad!.dataSync())).toEqual([0, 0, 0, 0]);
  });

  it('is traced as one layerNorm node by a tracer that takes it whole, as primitives otherwise', () => {
    const x = randomInput([2, 3, 4], 1).detach();
    const w = randomInput([4], 2).detach();
    const whole: TraceRecord[] = [];
    traceOps({ record: (r) => whole.push(r), wantsComposite: (op) => op === 'layerNorm' }, () => layerNorm(x, [4], w, null, 1e-3));
    expect(whole.map((r) => r.op)).toEqual(['layerNorm']);
    expect(whole[0]!.attrs).toEqual({ normalizedShape: [4], eps: 1e-3, weight: true, bias: false });
    expect(whole[0]!.inputs).toEqual([x, w]);
    const parts: TraceRecord[] = [];
    traceOps({ record: (r) => parts.push(r) }, () => layerNorm(x, [4], w, null, 1e-3));
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.map((r) => r.op)).not.toContain('layerNorm');
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
  expect(() => layerNorm(x, [6])).toThrow(/Kiln: layerNorm: input of shape \[2, ?6, ?3\] does not end in normalizedShape \[6\]/);
  expect(() => layerNorm(x, [2, 6, 3, 1])).toThrow(/Kiln: layerNorm: input of shape \[2, ?6, ?3\] does not end in normalizedShape/);
  expect(() => layerNorm(x, [])).toThrow(/Kiln: layerNorm: normalizedShape must be a positive integer or a non-empty list of them, got \[\]/);
  expect(() => layerNorm(x, [0])).toThrow(/Kiln: layerNorm: normalizedShape must be .* got \[0\]/);
  expect(() => layerNorm(x, 3, tensor([1, 2]))).toThrow(/Kiln: layerNorm: weight must have shape normalizedShape \[3\], got \[2\]/);
  expect(() => layerNorm(x, [6, 3], null, tensor([1, 2, 3]))).toThrow(/Kiln: layerNorm: bias must have shape normalizedShape \[6, ?3\], got \[3\]/);
  expect(() => layerNorm(x, 3, null, null, -1)).toThrow(/Kiln: layerNorm: eps must be a finite non-negative number, got -1/);
  expect(() => layerNorm(tensor([[1, 2]], { dtype: 'int32' }), 2)).toThrow(/Kiln: layerNorm: expected a float32 or float64 input, got int32/);
  expect(() => layerNorm(x, 3, 'w' as never)).toThrow(/Kiln: layerNorm: weight/);
});
