import { describe, expect, it } from 'vitest';
import { getNumThreads, kernels, setNumThreads, threadsReady, withBackend } from '../../backend.js';
import { wasmInfo } from '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { firstBitDifference, rand } from './test-utils/data.js';

// Shapes [n, c, s]: rows of 4k floats, odd rows (scalar tails), one position, one item.
const shapes: [number, number, number][] = [[4, 3, 16], [3, 5, 7], [2, 6, 1], [1, 4, 33], [32, 8, 64]];

/** Largest |a − b| / (1e-12 + |b|) over the elements. */
function relative(a: Float64Array, b: Float64Array): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / (1e-12 + Math.abs(b[i]!)));
  return w;
}

describe('wasm batch-norm channel kernels against the reference', () => {
  it('runs on the wasm backend', () => expect(wasmInfo()).not.toBeNull());
  for (const shape of shapes) {
    const [n, c, s] = shape;
    const size = n * c * s;
    it(`[${shape.join(', ')}]: moments and gradient sums to float64 rounding, the affine map bit for bit`, () => {
      // An offset mean, so the shifted sums matter.
      const x = rand(size, 1).map((v) => 3 + v);
      const dy = rand(size, 2);
      const z = rand(size, 3);
      const coef = (seed: number) => Float64Array.from(rand(c, seed), (v) => v * 1.7);
      const [a, b, e] = [coef(4), coef(5), coef(6)];
      const wasm = <T>(fn: () => T): T => withBackend('wasm', fn);

      const [mean, variance, meanRef, varianceRef] = [new Float64Array(c), new Float64Array(c), new Float64Array(c), new Float64Array(c)];
      referenceKernels.channelMoments(x, shape, meanRef, varianceRef);
      wasm(() => kernels().channelMoments(x, shape, mean, variance));
      expect(relative(mean, meanRef)).toBeLessThan(1e-13);
      expect(relative(variance, varianceRef)).toBeLessThan(1e-11);

      for (const withZ of [false, true]) {
        const outRef = new Float32Array(size);
        referenceKernels.channelAffine(x, shape, a, b, outRef, withZ ? z : null, withZ ? e : null);
        const out = new Float32Array(size).fill(Number.NaN);
        wasm(() => kernels().channelAffine(x, shape, a, b, out, withZ ? z : null, withZ ? e : null));
        expect(out).toEqual(outRef);
        // In place over x (as the ops may pass out = x).
        const inPlace = x.slice();
        wasm(() => kernels().channelAffine(inPlace, shape, a, b, inPlace, withZ ? z : null, withZ ? e : null));
        expect(inPlace).toEqual(outRef);
      }

      const [sums, dots, sumsRef, dotsRef] = [new Float64Array(c), new Float64Array(c), new Float64Array(c), new Float64Array(c)];
      referenceKernels.channelGradSums(dy, x, shape, meanRef, sumsRef, dotsRef);
      wasm(() => kernels().channelGradSums(dy, x, shape, meanRef, sums, dots));
      // Sums of n·s terms of magnitude ≤ 1 that partly cancel: compare against their scale.
      for (let ch = 0; ch < c; ch++) {
        expect(Math.abs(sums[ch]! - sumsRef[ch]!)).toBeLessThan(1e-12 * n * s);
        expect(Math.abs(dots[ch]! - dotsRef[ch]!)).toBeLessThan(1e-12 * n * s);
      }
    });
  }

  it('gives the same bits on 1, 2 and 3 threads for passes large enough to split by channel', async () => {
    const before = withBackend('wasm', () => getNumThreads());
    const run = (shape: [number, number, number]) => {
      const [n, c, s] = shape;
      const size = n * c * s;
      const x = rand(size, 21).map((v) => 2 + v);
      const dy = rand(size, 22);
      const z = rand(size, 23);
      const coef = (seed: number) => Float64Array.from(rand(c, seed), (v) => v * 1.3);
      const [a, b, e] = [coef(24), coef(25), coef(26)];
      const [mean, variance, sums, dots] = [new Float64Array(c), new Float64Array(c), new Float64Array(c), new Float64Array(c)];
      const [out, outZ] = [new Float32Array(size), new Float32Array(size)];
      kernels().channelMoments(x, shape, mean, variance);
      kernels().channelAffine(x, shape, a, b, out);
      kernels().channelAffine(x, shape, a, b, outZ, z, e);
      kernels().channelGradSums(dy, x, shape, mean, sums, dots);
      return [mean, variance, sums, dots, out, outZ];
    };
    // ResNet-18's first BatchNorm at batch 32, and an odd channel count over uneven shares.
    const shapes: [number, number, number][] = [[32, 64, 256], [8, 37, 100]];
    try {
      const one = withBackend('wasm', () => {
        setNumThreads(1);
        return shapes.map(run);
      });
      for (const threads of [2, 3]) {
        withBackend('wasm', () => setNumThreads(threads));
        await withBackend('wasm', () => threadsReady());
        const many = withBackend('wasm', () => shapes.map(run));
        // Bit for bit.
        many.forEach((arrays, i) => arrays.forEach((arr, j) => {
          const want = one[i]![j]!;
          expect(firstBitDifference(arr, want), `shape ${i}, array ${j}, ${threads} threads`).toBe(-1);
        }));
      }
      if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
    } finally {
      withBackend('wasm', () => setNumThreads(before));
    }
  });

  it('reads inputs and writes outputs in place where they are in the Wasm memory, with the bits of staged copies, on 1, 2 and 3 threads', async () => {
    const resident = withBackend('wasm', () => kernels().residentArrays?.([1]) ?? null);
    if (!resident) return; // no shared Wasm memory in this build: nothing is ever resident
    const before = withBackend('wasm', () => getNumThreads());
    const shape: [number, number, number] = [32, 64, 64];
    const size = shape[0] * shape[1] * shape[2];
    const x = rand(size, 31).map((v) => 2 + v);
    const dy = rand(size, 32);
    const z = rand(size, 33);
    const coef = (seed: number) => Float64Array.from(rand(shape[1], seed), (v) => v * 1.3);
    const [a, b, e] = [coef(34), coef(35), coef(36)];
    // Which of x, dy, z, out, outZ are resident: all, the inputs only, the outputs only.
    const run = (where: boolean[]) => {
      const res = kernels().residentArrays!([size, size, size, size, size])!;
      const pick = (i: number, v: Float32Array) => {
        if (!where[i]) return v.slice();
        res[i]!.set(v);
        return res[i]!;
      };
      const [xa, dya, za] = [pick(0, x), pick(1, dy), pick(2, z)];
      const [out, outZ] = [pick(3, new Float32Array(size).fill(NaN)), pick(4, new Float32Array(size).fill(NaN))];
      const [mean, variance, sums, dots] = [0, 0, 0, 0].map(() => new Float64Array(shape[1]));
      kernels().channelMoments(xa, shape, mean!, variance!);
      kernels().channelAffine(xa, shape, a, b, out);
      kernels().channelAffine(xa, shape, a, b, outZ, za, e);
      kernels().channelGradSums(dya, xa, shape, mean!, sums!, dots!);
      // The inputs are left as they were.
      expect([firstBitDifference(xa, x), firstBitDifference(dya, dy), firstBitDifference(za, z)]).toEqual([-1, -1, -1]);
      return [mean!, variance!, sums!, dots!, out.slice(), outZ.slice()];
    };
    try {
      const staged = withBackend('wasm', () => {
        setNumThreads(1);
        return run([false, false, false, false, false]);
      });
      for (const threads of [1, 2, 3]) {
        withBackend('wasm', () => setNumThreads(threads));
        await withBackend('wasm', () => threadsReady());
        for (const where of [[true, true, true, true, true], [true, true, true, false, false], [false, false, false, true, true]]) {
          const got = withBackend('wasm', () => run(where));
          got.forEach((arr, j) => expect(firstBitDifference(arr, staged[j]!), `array ${j}, resident ${where}, ${threads} threads`).toBe(-1));
        }
      }
    } finally {
      withBackend('wasm', () => setNumThreads(before));
    }
  });

  it('leaves float64 data and empty channels to the reference (NaN statistics)', () => {
    const [mean, variance] = [new Float64Array(2), new Float64Array(2)];
    withBackend('wasm', () => kernels().channelMoments(new Float32Array(0), [0, 2, 3], mean, variance));
    expect([...mean, ...variance].every(Number.isNaN)).toBe(true);
    const x = Float64Array.from(rand(12, 7));
    const [m64, v64, mRef, vRef] = [new Float64Array(2), new Float64Array(2), new Float64Array(2), new Float64Array(2)];
    withBackend('wasm', () => kernels().channelMoments(x, [2, 2, 3], m64, v64));
    referenceKernels.channelMoments(x, [2, 2, 3], mRef, vRef);
    expect([...m64, ...v64]).toEqual([...mRef, ...vRef]);
  });
});
