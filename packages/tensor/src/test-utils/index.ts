/**
 * Shared test helpers: every backend runs the same suite (`forEachBackend`), values are
 * compared with an all-close check that reports the worst element, and `checkGrad` runs
 * gradcheck in float64 and fails with its report.
 */
import { beforeAll, describe, expect } from 'vitest';
import { gradcheck, listBackends, setBackend, Tensor, tensor, type GradcheckOptions } from '../index.js';

/**
 * Runs `body` once per registered backend, with that backend active — while the block is
 * collected and again (beforeAll) when its tests run: vitest collects every block before
 * running any, so selecting it only at collection left all blocks on the last backend.
 */
export function forEachBackend(title: string, body: (backend: string) => void): void {
  describe.each(listBackends())(`${title} [%s]`, (backend) => {
    beforeAll(() => setBackend(backend));
    setBackend(backend);
    body(backend);
  });
}

type Nested = number | boolean | Nested[];

/** Asserts `actual` is elementwise within atol + rtol·|expected| of `expected` (same shape). */
export function expectClose(actual: Tensor, expected: Tensor | Nested, { atol = 1e-5, rtol = 1e-5 } = {}): void {
  const e = expected instanceof Tensor ? expected : tensor(expected as never, { dtype: 'float64' });
  expect(actual.shape, 'shape').toEqual(e.shape);
  const a = actual.dataSync();
  const b = e.dataSync();
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y) && Number.isNaN(x)) continue;
    if (x === y) continue;
    const err = Math.abs(x - y);
    if (!(err <= atol + rtol * Math.abs(y)) && (err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = Number.isNaN(err) ? Infinity : err;
    }
  }
  if (worst >= 0) {
    expect.fail(`element ${worst}: got ${a[worst]}, expected ${b[worst]} (|diff| ${worstErr}, atol ${atol}, rtol ${rtol})`);
  }
}

/** gradcheck in float64; fails the test with the per-input report. */
export function checkGrad(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const result = gradcheck(fn, inputs, options);
  if (!result.ok) {
    expect.fail(
      `gradcheck failed: relative error ${result.relativeError}\n` +
        result.inputs.map((r) => `  input ${r.index}: rel ${r.relativeError}, max abs ${r.maxAbsError} @ ${r.worst}`).join('\n'),
    );
  }
}

/** A float64 tensor of `shape` with values in [lo, hi), requiring grad, from a fixed seed. */
export function randomInput(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return tensor(data, { shape, requiresGrad: true });
}
