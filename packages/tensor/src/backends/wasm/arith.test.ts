import { describe, expect, it } from 'vitest';
import { kernels, withBackend, type BinaryOp } from '../../backend.js';
import '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { rand } from './test-utils/data.js';

const wasm = <T>(fn: () => T): T => withBackend('wasm', fn);
const bits = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** Random values with the special ones sprinkled in (±0, ±Infinity, NaN, denormals, huge). */
function data(n: number, seed: number): Float32Array {
  const x = rand(n, seed).map((v, i) => (i % 7 === 0 ? v * 1e30 : i % 11 === 0 ? v * 1e-40 : v * 10));
  const specials = [0, -0, Infinity, -Infinity, NaN, 1e-45, -3.4e38, 3.4e38];
  specials.forEach((v, i) => { x[i * 97 + seed] = v; });
  return x;
}

describe('wasm float32 arithmetic and clamp on large arrays: the reference bit for bit', () => {
  const cases: Array<{ name: string; out: number[]; b: number[] }> = [
    { name: 'same shape', out: [3, 5, 40, 37], b: [3, 5, 40, 37] },
    { name: 'same shape, just above the staging threshold (odd tail)', out: [1031], b: [1031] },
    { name: 'per channel of [N, C, H, W] ([1, C, 1, 1], batch norm)', out: [3, 5, 40, 37], b: [1, 5, 1, 1] },
    { name: 'per (item, channel) ([N, C, 1, 1])', out: [3, 5, 40, 37], b: [3, 5, 1, 1] },
    { name: 'scalar', out: [3, 5, 40, 37], b: [1] },
    { name: 'per channel of [C, H, W] with an odd inner size', out: [7, 61, 43], b: [7, 1, 1] },
  ];
  for (const c of cases) {
    it(`add, sub, mul, div: ${c.name}`, () => {
      const n = c.out.reduce((x, y) => x * y, 1);
      const nb = c.b.reduce((x, y) => x * y, 1);
      const a = data(n, 1);
      const b = data(nb, 2);
      for (const op of ['add', 'sub', 'mul', 'div'] as BinaryOp[]) {
        const ref = new Float32Array(n);
        referenceKernels.binary(op, a, c.out, b, c.b, ref, c.out);
        const got = new Float32Array(n).fill(7);
        wasm(() => kernels().binary(op, a, c.out, b, c.b, got, c.out));
        // NaN payloads may differ; everything else bit for bit.
        const gb = bits(got);
        const rb = bits(ref);
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(ref[i]!)) expect(Number.isNaN(got[i]!), `${op} [${i}]`).toBe(true);
          else if (gb[i] !== rb[i]) expect.fail(`${op} [${i}]: ${got[i]} vs ${ref[i]} (a ${a[i]})`);
        }
      }
    });
  }

  it('clamp (ReLU6 and one-sided bounds), NaN and ±0 kept as the reference keeps them', () => {
    for (const n of [50_001, 1031]) {
      const x = data(n, 3);
      for (const [lo, hi] of [[0, 6], [-Infinity, 0.1], [-1.5, Infinity], [0.1, 0.2]] as const) {
        const ref = new Float32Array(n);
        referenceKernels.unary('clamp', x, ref, lo, hi);
        const got = new Float32Array(n);
        wasm(() => kernels().unary('clamp', x, got, lo, hi));
        const gb = bits(got);
        const rb = bits(ref);
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(ref[i]!)) expect(Number.isNaN(got[i]!)).toBe(true);
          else if (gb[i] !== rb[i]) expect.fail(`clamp(${lo}, ${hi}) [${i}]: ${got[i]} vs ${ref[i]} (x ${x[i]})`);
        }
      }
    }
  });
});
