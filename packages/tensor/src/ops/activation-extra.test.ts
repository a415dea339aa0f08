import { expect, it } from 'vitest';
import { getBackend, hardsigmoid, hardswish, relu6, silu, tensor, traceOps, type TraceRecord } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

const xs = [-7, -3.5, -2, -0.25, 0, 0.5, 2.9, 4, 6.5, 9];
const hsig = (v: number) => Math.min(Math.max(v + 3, 0), 6) / 6;

forEachBackend('mobile activations', (backend) => {
  it('runs on its backend', () => expect(getBackend().name).toBe(backend));

  it('forward values against the scalar formulas (float32 and float64)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = tensor(xs, { dtype });
      expectClose(relu6(x), xs.map((v) => Math.min(Math.max(v, 0), 6)));
      expectClose(hardsigmoid(x), xs.map(hsig));
      expectClose(hardswish(x), xs.map((v) => v * hsig(v)));
      expectClose(silu(x), xs.map((v) => v / (1 + Math.exp(-v))));
      expect(silu(x).dtype).toBe(dtype);
    }
  });

  it('int32 input gives float32 output', () => {
    const x = tensor([-4, 1, 7], { dtype: 'int32' });
    expect(relu6(x).dtype).toBe('float32');
    expectClose(hardswish(x), [0, 1 * hsig(1), 7]);
  });

  it('gradients (float64 gradcheck, away from the kinks)', () => {
    // Values in (-5, 8) but not within 1e-3 of the kinks at -3, 0, 3, 6.
    const x = randomInput([3, 5], 7, -5, 8);
    const d = x.dataSync() as Float64Array;
    for (let i = 0; i < d.length; i++) for (const k of [-3, 0, 3, 6]) if (Math.abs(d[i]! - k) < 1e-3) d[i] = k + 0.01;
    for (const f of [relu6, hardsigmoid, hardswish, silu]) checkGrad(f, [x]);
  });

  it('hardswish and hardsigmoid are one trace node each when asked; silu is Sigmoid·x otherwise', () => {
    const seen: TraceRecord[] = [];
    traceOps({ record: (r) => seen.push(r), wantsComposite: (op) => op === 'hardswish' || op === 'hardsigmoid' }, () => {
      const x = tensor([1, 2]);
      hardswish(x); hardsigmoid(x); silu(x); relu6(x);
    });
    expect(seen.map((r) => r.op)).toEqual(['hardswish', 'hardsigmoid', 'sigmoid', 'mul', 'clamp']);
  });
});

it('names the op on bad input', () => {
  expect(() => silu(3 as never)).toThrow(/Kiln: silu: input must be a Tensor/);
  expect(() => hardswish(null as never)).toThrow(/Kiln: hardswish: input must be a Tensor, got null/);
});
