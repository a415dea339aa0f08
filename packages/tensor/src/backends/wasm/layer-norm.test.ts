import { describe, expect, it } from 'vitest';
import { kernels, withBackend, type LayerNormBackwardArgs } from '../../backend.js';
import { referenceKernels } from '../reference/index.js';
import { firstBitDifference, rand } from './test-utils/data.js';
import { expectSameBitsOnThreads } from './test-utils/threads.js';

interface Pass {
  y: Float32Array;
  mean: Float32Array;
  rstd: Float32Array;
  dx: Float32Array;
  dweight: Float32Array | null;
  dbias: Float32Array | null;
}

/** One forward and backward of layer norm over [rows, n] on `backend`'s kernels. */
function pass(backend: string, x: Float32Array, dy: Float32Array, w: Float32Array | null, b: Float32Array | null, rows: number, n: number, eps = 1e-5): Pass {
  const y = new Float32Array(rows * n);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  const dx = new Float32Array(rows * n);
  const dweight = w ? new Float32Array(n) : null;
  const dbias = b ? new Float32Array(n) : null;
  withBackend(backend, () => {
    kernels().layerNorm({ x, weight: w, bias: b, out: y, mean, rstd, rows, n, eps });
    kernels().layerNormBackward({ x, dy, weight: w, mean, rstd, dx, dweight, dbias, rows, n });
  });
  return { y, mean, rstd, dx, dweight, dbias };
}

/** Largest |a − b| relative to the largest |b| (the arrays' scale: dx and the column sums cancel). */
function relErr(a: Float32Array, b: Float32Array): number {
  let e = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return e / Math.max(scale, 1e-30);
}

function data(rows: number, n: number, seed: number, offset = 0): { x: Float32Array; dy: Float32Array; w: Float32Array; b: Float32Array } {
  const x = rand(rows * n, seed);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * 3 + offset;
  const w = rand(n, seed + 1);
  for (let i = 0; i < n; i++) w[i] = w[i]! + 1.5;
  return { x, dy: rand(rows * n, seed + 2), w, b: rand(n, seed + 3) };
}

describe('wasm fused layer norm over the last axis', () => {
  for (const n of [128, 7, 1, 130, 3]) {
    it(`forward and backward match the reference to float32 rounding (n = ${n}; affine, weight only, none)`, () => {
      const rows = 53;
      const { x, dy, w, b } = data(rows, n, n, n === 130 ? 50 : 0);
      for (const [ww, bb] of [[w, b], [w, null], [null, null], [null, b]] as const) {
        const want = pass('reference', x, dy, ww, bb, rows, n);
        const got = pass('wasm', x, dy, ww, bb, rows, n);
        expect(relErr(got.y, want.y)).toBeLessThan(4e-6);
        expect(relErr(got.mean, want.mean)).toBeLessThan(2e-6);
        expect(relErr(got.rstd, want.rstd)).toBeLessThan(n === 1 ? 1e-6 : 4e-6);
        // n = 1: every x̂ is 0 and dx is 0 in both.
        expect(relErr(got.dx, want.dx)).toBeLessThan(n === 1 ? 1e-30 : 1e-5);
        if (ww) expect(relErr(got.dweight!, want.dweight!)).toBeLessThan(1e-5);
        if (bb) expect(relErr(got.dbias!, want.dbias!)).toBeLessThan(1e-5);
      }
    });
  }

  it('leaves what is not asked for alone: no dx, or no column sums', () => {
    const rows = 40, n = 16;
    const { x, dy, w, b } = data(rows, n, 5);
    const full = pass('wasm', x, dy, w, b, rows, n);
    const args = (over: Partial<LayerNormBackwardArgs>): LayerNormBackwardArgs => ({
      x, dy, weight: w, mean: full.mean, rstd: full.rstd, dx: null, dweight: null, dbias: null, rows, n, ...over,
    });
    const dweight = new Float32Array(n);
    withBackend('wasm', () => kernels().layerNormBackward(args({ dweight })));
    expect(firstBitDifference(dweight, full.dweight!)).toBe(-1);
    const dx = new Float32Array(rows * n);
    withBackend('wasm', () => kernels().layerNormBackward(args({ dx })));
    expect(firstBitDifference(dx, full.dx)).toBe(-1);
  });

  it('gives the same bits on 1, 2 and 3 threads (rows split across the pool), staged or in place', async () => {
    // A Transformer's activations (split in shares) and an odd row count over uneven shares.
    const shapes: [number, number][] = [[2048, 128], [301, 37]];
    const passes = (): Float32Array[] => withBackend('wasm', () => {
      const k = kernels();
      const all: Float32Array[] = [];
      for (const [rows, n] of shapes) {
        const { x, dy, w, b } = data(rows, n, rows + n);
        const p = pass('wasm', x, dy, w, b, rows, n);
        all.push(p.y, p.mean, p.rstd, p.dx, p.dweight!, p.dbias!);
        // The same pass on arrays that live in the Wasm memory (activation blocks), in place —
        // where the build has them (not without shared memory).
        if (!k.takeActivation) continue;
        const [rx, ry, rdy, rdx] = [0, 1, 2, 3].map(() => k.takeActivation!(rows * n, false)!);
        rx!.set(x);
        rdy!.set(dy);
        const mean = new Float32Array(rows), rstd = new Float32Array(rows);
        const dweight = new Float32Array(n), dbias = new Float32Array(n);
        k.layerNorm({ x: rx!, weight: w, bias: b, out: ry!, mean, rstd, rows, n, eps: 1e-5 });
        k.layerNormBackward({ x: rx!, dy: rdy!, weight: w, mean, rstd, dx: rdx!, dweight, dbias, rows, n });
        expect(firstBitDifference(ry!, p.y)).toBe(-1);
        expect(firstBitDifference(rdx!, p.dx)).toBe(-1);
        expect(firstBitDifference(dweight, p.dweight!)).toBe(-1);
        expect(firstBitDifference(dbias, p.dbias!)).toBe(-1);
        for (const r of [rx, ry, rdy, rdx]) k.releaseActivation!(r!);
      }
      return all;
    });
    await expectSameBitsOnThreads(passes);
  });

  it('float64 takes the reference kernels (identical results)', () => {
    const rows = 6, n = 10;
    const { x, dy, w, b } = data(rows, n, 8);
    const run = (backend: string): Float64Array[] => {
      const o = [new Float64Array(rows * n), new Float64Array(rows), new Float64Array(rows), new Float64Array(rows * n), new Float64Array(n), new Float64Array(n)] as const;
      const [xd, dyd, wd, bd] = [x, dy, w, b].map((a) => Float64Array.from(a)) as [Float64Array, Float64Array, Float64Array, Float64Array];
      withBackend(backend, () => {
        kernels().layerNorm({ x: xd, weight: wd, bias: bd, out: o[0], mean: o[1], rstd: o[2], rows, n, eps: 1e-5 });
        kernels().layerNormBackward({ x: xd, dy: dyd, weight: wd, mean: o[1], rstd: o[2], dx: o[3], dweight: o[4], dbias: o[5], rows, n });
      });
      return [...o];
    };
    const ref = run('reference');
    run('wasm').forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(ref[i]!)));
    // And the reference itself is what the wasm kernels are compared with above.
    expect(referenceKernels.layerNorm).toBe(withBackend('reference', () => kernels().layerNorm));
  });
});
