import { expect, it } from 'vitest';
import { batchNorm, getBackend, tensor, traceOps, type Tensor, type TraceRecord } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

/** Direct loops over [N, C, M]: per-channel mean and biased variance. */
function moments(x: Tensor): { mean: number[]; variance: number[] } {
  const [n, c] = x.shape as [number, number];
  const m = x.numel() / (n * c);
  const d = Array.from(x.dataSync(), Number);
  const mean: number[] = [];
  const variance: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let b = 0; b < n; b++) for (let j = 0; j < m; j++) vals.push(d[(b * c + ch) * m + j]!);
    const mu = vals.reduce((a, v) => a + v, 0) / vals.length;
    mean.push(mu);
    variance.push(vals.reduce((a, v) => a + (v - mu) ** 2, 0) / vals.length);
  }
  return { mean, variance };
}

function naive(x: Tensor, mean: number[], variance: number[], w: number[] | null, b: number[] | null, eps: number): Tensor {
  const [n, c] = x.shape as [number, number];
  const m = x.numel() / (n * c);
  const d = Array.from(x.dataSync(), Number);
  const out = d.map((v, i) => {
    const ch = Math.floor(i / m) % c;
    return ((v - mean[ch]!) / Math.sqrt(variance[ch]! + eps)) * (w ? w[ch]! : 1) + (b ? b[ch]! : 0);
  });
  return tensor(out, { dtype: 'float64' }).reshape(x.shape);
}

forEachBackend('batchNorm', (backend) => {
  it('runs on its backend', () => expect(getBackend().name).toBe(backend));

  it('training: batch statistics, and running statistics updated in place (unbiased variance)', () => {
    for (const shape of [[3, 4, 2, 3], [5, 3], [2, 3, 7], [2, 2, 2, 2, 3]]) {
      const x = randomInput(shape, shape.length * 7, -3, 5).detach();
      const c = shape[1]!;
      const w = Array.from({ length: c }, (_, i) => 0.5 + i * 0.3);
      const b = Array.from({ length: c }, (_, i) => i * 0.2 - 0.4);
      const rm = tensor(Array.from({ length: c }, (_, i) => i * 0.1), { dtype: 'float64' });
      const rv = tensor(Array.from({ length: c }, (_, i) => 1 + i), { dtype: 'float64' });
      const rm0 = Array.from(rm.dataSync(), Number);
      const rv0 = Array.from(rv.dataSync(), Number);
      const y = batchNorm(x, rm, rv, tensor(w, { dtype: 'float64' }), tensor(b, { dtype: 'float64' }), { training: true, momentum: 0.3, eps: 1e-3 });
      const { mean, variance } = moments(x);
      expectClose(y, naive(x, mean, variance, w, b, 1e-3), { atol: 1e-12, rtol: 1e-10 });
      const count = x.numel() / c;
      expectClose(rm, rm0.map((r, i) => 0.7 * r + 0.3 * mean[i]!), { atol: 1e-12, rtol: 1e-12 });
      expectClose(rv, rv0.map((r, i) => 0.7 * r + 0.3 * variance[i]! * (count / (count - 1))), { atol: 1e-12, rtol: 1e-12 });
    }
  });

  it('eval: running statistics, one multiply-add per element (float32 within rounding)', () => {
    const x = randomInput([4, 3, 5, 5], 3, -2, 2).detach();
    const mean = [0.3, -0.2, 1], variance = [0.5, 2, 0.1];
    const w = [1.5, -0.5, 2], b = [0.1, 0, -1];
    const f64 = (v: number[]) => tensor(v, { dtype: 'float64' });
    const y = batchNorm(x, f64(mean), f64(variance), f64(w), f64(b));
    expectClose(y, naive(x, mean, variance, w, b, 1e-5), { atol: 1e-12, rtol: 1e-10 });
    const f32 = (v: number[]) => tensor(v);
    const y32 = batchNorm(x.to('float32'), f32(mean), f32(variance), f32(w), f32(b));
    expect(y32.dtype).toBe('float32');
    expectClose(y32, naive(x.to('float32'), mean, variance, w, b, 1e-5), { atol: 1e-5, rtol: 1e-5 });
    // No affine parameters: a plain standardisation.
    expectClose(batchNorm(x, f64(mean), f64(variance)), naive(x, mean, variance, null, null, 1e-5), { atol: 1e-12, rtol: 1e-10 });
  });

  it('a large mean does not cancel the batch variance', () => {
    const x = tensor([1e4 + 1, 1e4 - 1, 1e4 + 3, 1e4 - 3]).reshape([4, 1]);
    const y = batchNorm(x, null, null, null, null, { training: true, eps: 0 });
    expectClose(y, [[1 / Math.sqrt(5)], [-1 / Math.sqrt(5)], [3 / Math.sqrt(5)], [-3 / Math.sqrt(5)]], { atol: 1e-6, rtol: 1e-6 });
  });

  it('gradients in training (input, weight, bias; 2-d, 3-d and 4-d inputs)', () => {
    for (const shape of [[3, 2, 2, 2], [4, 3], [2, 2, 3]]) {
      const c = shape[1]!;
      const probe = randomInput(shape, 99, -1, 1).detach();
      checkGrad((x, w, b) => batchNorm(x, null, null, w, b, { training: true }).mul(probe).sum(),
        [randomInput(shape, 5, -2, 2), randomInput([c], 6), randomInput([c], 7)]);
      checkGrad((x) => batchNorm(x, null, null, null, null, { training: true, eps: 0.1 }).mul(probe).sum(), [randomInput(shape, 8)]);
    }
  });

  it('gradients in eval, also through running statistics that require grad', () => {
    const probe = randomInput([2, 3, 2], 98).detach();
    const rm = randomInput([3], 11).detach();
    const rv = randomInput([3], 12, 0.5, 2).detach();
    checkGrad((x, w, b) => batchNorm(x, rm, rv, w, b).mul(probe).sum(), [randomInput([2, 3, 2], 13), randomInput([3], 14), randomInput([3], 15)]);
    checkGrad((x, m, v) => batchNorm(x, m, v, null, null).mul(probe).sum(), [randomInput([2, 3, 2], 16), randomInput([3], 17), randomInput([3], 18, 0.5, 2)]);
  });
});

it('a tracer (the ONNX exporter) sees primitives; outside a trace the fused op gives the same values', () => {
  const x = randomInput([2, 3, 4], 21).detach();
  const w = randomInput([3], 22).detach();
  const b = randomInput([3], 23).detach();
  const ops: string[] = [];
  const tracer = { record: (r: TraceRecord) => ops.push(r.op) };
  const traced = traceOps(tracer, () => batchNorm(x, null, null, w, b, { training: true }));
  expect(ops).toContain('sub');
  expect(ops).not.toContain('batchNorm');
  expectClose(batchNorm(x, null, null, w, b, { training: true }), traced, { atol: 1e-12, rtol: 1e-10 });
  ops.length = 0;
  const whole = traceOps({ ...tracer, wantsComposite: (op: string) => op === 'batchNorm' }, () => batchNorm(x, null, null, w, b, { training: true }));
  expect(ops).toEqual(['batchNorm']);
  expectClose(whole, traced, { atol: 1e-12, rtol: 1e-10 });
});

it('bad input names the op, the argument and the values', () => {
  const x = randomInput([2, 3, 4], 1);
  expect(() => batchNorm(x, null, null)).toThrow(/Kiln: batchNorm: evaluation \(training: false\) needs runningMean and runningVar/);
  expect(() => batchNorm(x, tensor([0, 0]), tensor([1, 1]))).toThrow(/Kiln: batchNorm: runningMean must have shape \[3\]/);
  expect(() => batchNorm(x, tensor([0, 0, 0]), null)).toThrow(/Kiln: batchNorm: give both runningMean and runningVar/);
  expect(() => batchNorm(tensor([[1, 2, 3]]), null, null, null, null, { training: true })).toThrow(/Kiln: batchNorm: expected more than 1 value per channel when training/);
  expect(() => batchNorm(x, null, null, null, null, { training: true, eps: -1 })).toThrow(/Kiln: batchNorm: eps must be a non-negative number, got -1/);
  expect(() => batchNorm(x, null, null, null, null, { trainng: true } as never)).toThrow(/Kiln: batchNorm: .*trainng/);
  expect(() => batchNorm(tensor([1, 2]), null, null, null, null, { training: true })).toThrow(/Kiln: batchNorm: expected an input of at least 2 dims/);
});
