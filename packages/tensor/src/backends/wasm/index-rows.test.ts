import { describe, expect, it } from 'vitest';
import { kernels, withBackend } from '../../backend.js';
import { referenceKernels } from '../reference/index.js';
import { firstBitDifference, rand } from './test-utils/data.js';
import { expectSameBitsOnThreads } from './test-utils/threads.js';


/** m indices into `len` rows, every row hit several times (sums of many rounded adds). */
function indices(m: number, len: number, seed: number): Int32Array {
  const r = rand(m, seed);
  return Int32Array.from(r, (v) => Math.min(len - 1, Math.floor(((v + 1) / 2) * len)));
}

// An Embedding(64, 64) over 32 × 64 tokens, and odd sizes (row length not a multiple of 4).
const cases: [number, number, number][] = [[64, 64, 2048], [37, 13, 6000], [3, 130, 40]];

/** Gather and scatter-add on the active backend: staged, and on arrays that live in the Wasm memory. */
function lookups(): Float32Array[] {
  const k = kernels();
  const out: Float32Array[] = [];
  for (const [len, inner, m] of cases) {
    const table = rand(len * inner, len + inner);
    const index = indices(m, len, m);
    const rows = rand(m * inner, inner + m);
    const got = new Float32Array(m * inner);
    k.indexSelect(table, [len, inner], 0, index, got);
    const sums = rand(len * inner, 5);
    k.indexAdd(sums, [len, inner], 0, index, rows);
    out.push(got, sums);
    if (!k.takeActivation) continue;
    const [rt, rr, rg] = [len * inner, m * inner, m * inner].map((n) => k.takeActivation!(n, false)!);
    rt!.set(table);
    k.indexSelect(rt!, [len, inner], 0, index, rg!);
    expect(firstBitDifference(rg!, got)).toBe(-1);
    rt!.set(rand(len * inner, 5));
    rr!.set(rows);
    k.indexAdd(rt!, [len, inner], 0, index, rr!);
    expect(firstBitDifference(rt!, sums)).toBe(-1);
    for (const r of [rt, rr, rg]) k.releaseActivation!(r!);
  }
  return out;
}

describe('wasm row lookups (Embedding forward and weight gradient)', () => {
  it('equal the reference bit for bit on 1, 2 and 3 threads, staged or in place', async () => {
    await expectSameBitsOnThreads(lookups, withBackend('reference', lookups));
  });

  it('leaves a large staged table that few rows touch to the fallback (same bits as the reference)', () => {
    const [len, inner, m] = [5000, 32, 64];
    const table = rand(len * inner, 8);
    const index = indices(m, len, 9);
    const src = rand(m * inner, 10);
    const [a, b] = [rand(len * inner, 11), rand(len * inner, 11)];
    withBackend('wasm', () => kernels().indexAdd(a, [len, inner], 0, index, src));
    referenceKernels.indexAdd(b, [len, inner], 0, index, src);
    expect(firstBitDifference(a, b)).toBe(-1);
    const [c, d] = [new Float32Array(m * inner), new Float32Array(m * inner)];
    withBackend('wasm', () => kernels().indexSelect(table, [len, inner], 0, index, c));
    referenceKernels.indexSelect(table, [len, inner], 0, index, d);
    expect(firstBitDifference(c, d)).toBe(-1);
  });

  it('leaves other axes and float64 tables to the fallback (same results as the reference)', () => {
    const x = rand(6 * 40 * 8, 3);
    const index = indices(300, 40, 4);
    const [a, b] = [new Float32Array(6 * 300 * 8), new Float32Array(6 * 300 * 8)];
    withBackend('wasm', () => kernels().indexSelect(x, [6, 40, 8], 1, index, a));
    referenceKernels.indexSelect(x, [6, 40, 8], 1, index, b);
    expect(firstBitDifference(a, b)).toBe(-1);
    const xd = Float64Array.from(rand(40 * 64, 6));
    const [c, d] = [new Float64Array(300 * 64), new Float64Array(300 * 64)];
    withBackend('wasm', () => kernels().indexSelect(xd, [40, 64], 0, index, c));
    referenceKernels.indexSelect(xd, [40, 64], 0, index, d);
    expect(Array.from(c)).toEqual(Array.from(d));
  });
});
