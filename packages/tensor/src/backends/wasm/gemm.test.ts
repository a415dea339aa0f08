import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, kernels, listBackends, setNumThreads, threadsReady, withBackend, type GemmArgs } from '../../backend.js';
import { conv2d, randn, manualSeed, tensor, wasmInfo } from '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { rand } from './test-utils/data.js';



interface Case {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  shareA: boolean;
  shareB: boolean;
  accumulate: boolean;
  /** A bias row added to C before the product (GemmArgs.bias; not with accumulate). */
  bias: boolean;
  /** Extra floats between batch items of C (as in a grouped convolution's output). */
  cGap: number;
}

/** Runs one case on the wasm and the reference kernels over identical buffers; returns the worst relative error. */
function compare(c: Case, seed: number): number {
  const { batch, m, n, k } = c;
  const aOff = 3;
  const bOff = 5;
  const cOff = 7;
  const aStride = c.shareA ? 0 : m * k + 2;
  const bStride = c.shareB ? 0 : k * n + 1;
  const cStride = m * n + c.cGap;
  const a = rand(aOff + (c.shareA ? 1 : batch) * (m * k + 2), seed);
  const b = rand(bOff + (c.shareB ? 1 : batch) * (k * n + 1), seed + 1);
  const c0 = rand(cOff + batch * cStride, seed + 2);
  const args = (out: Float32Array): GemmArgs => ({
    batch, m, n, k, transA: c.transA, transB: c.transB,
    a, aOffset: aOff, aBatchStride: aStride, b, bOffset: bOff, bBatchStride: bStride,
    c: out, cOffset: cOff, cBatchStride: cStride, accumulate: c.accumulate, bias: c.bias ? rand(n, seed + 3) : null,
  });
  const expected = c0.slice();
  referenceKernels.gemm(args(expected));
  const actual = c0.slice();
  wasmGemm(args(actual));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!));
    if (!(err <= worst)) worst = err;
  }
  return worst;
}

/** The wasm backend's GEMM (not the reference fallback). */
function wasmGemm(g: GemmArgs): void {
  withBackend('wasm', () => kernels().gemm(g));
}

describe('wasm GEMM against the reference kernel', () => {
  // Node, Bun, Deno and current browsers all have Wasm SIMD: the backend must be there.
  it('is registered and active by default', () => {
    expect(listBackends()).toContain('wasm');
  });
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  it('reports its build', () => {
    expect(wasmInfo()?.build).toMatch(/^(relaxed-)?simd(\+threads)?$/);
  });

  // Odd and prime sizes straddle the 4×8 register tile and the 256-deep / 128-row / 1024-column blocks.
  const shapes: [number, number, number, number][] = [
    [1, 13, 17, 11], [1, 64, 256, 784], [2, 129, 33, 257], [3, 5, 301, 7], [1, 4, 8, 1031],
    [1, 131, 1029, 3], [5, 6, 784, 25], [1, 1, 997, 3], [2, 37, 41, 43], [1, 260, 9, 520],
    // One-row products (the matrix-vector kernels): output and depth counts off the 16- and
    // 4-wide blocks, a batch of them, and a layer's worth split across threads.
    [1, 1, 130, 417], [4, 1, 37, 301], [1, 1, 1000, 300], [1, 1, 3, 2],
  ];
  for (const threads of [1, 2]) {
    for (const [batch, m, n, k] of shapes) {
      it(`${batch}×(${m}×${k})·(${k}×${n}) on ${threads} thread(s), every transpose/share/accumulate combination`, () => {
        withBackend('wasm', () => setNumThreads(threads));
        let seed = 1;
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [shareA, shareB] of [[false, false], [true, false], [false, true]] as const) {
              for (const [accumulate, bias] of [[false, false], [true, false], [false, true]] as const) {
                const cGap = seed % 3 === 0 ? 5 : 0;
                const worst = compare({ batch, m, n, k, transA, transB, shareA, shareB, accumulate, bias, cGap }, seed++);
                // The reference rounds after every term of a 784-deep sum; the kernel sums 256-deep
                // blocks, fused, before adding them to C. A bias row in C shifts where those
                // roundings fall, so its worst case over the same shapes is a little larger.
                expect(worst, `transA ${transA} transB ${transB} shareA ${shareA} shareB ${shareB} acc ${accumulate} bias ${bias}`).toBeLessThan(bias ? 4e-5 : 2e-5);
              }
            }
          }
        }
      });
    }
  }

  it('gives bit-identical results on 1 and 2 threads', async () => {
    const run = (threads: number): Float32Array => {
      withBackend('wasm', () => setNumThreads(threads));
      const out = new Float32Array(96 * 200);
      wasmGemm({
        batch: 1, m: 96, n: 200, k: 300, transA: false, transB: true,
        a: rand(96 * 300, 9), aOffset: 0, aBatchStride: 0, b: rand(200 * 300, 10), bOffset: 0, bBatchStride: 0,
        c: out, cOffset: 0, cBatchStride: 0, accumulate: false,
      });
      return out;
    };
    const one = run(1);
    // Wait for the workers instead of hoping they start during the loop (in a browser they cannot
    // start while this thread runs synchronously).
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    for (let i = 0; i < 5; i++) expect(run(2)).toEqual(one);
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
  });

  it('one-row products give the same bits on 1, 2 and 3 threads, and a bias the bits of C preloaded with it', async () => {
    const [n, k] = [1000, 300];
    const a = rand(k, 41);
    const w = rand(n * k, 42);
    const bias = rand(n, 43);
    const run = (transB: boolean, withBias: boolean): Float32Array => {
      const out = new Float32Array(n);
      if (!withBias) out.set(bias);
      wasmGemm({
        batch: 1, m: 1, n, k, transA: false, transB, a, aOffset: 0, aBatchStride: 0, b: w, bOffset: 0, bBatchStride: 0,
        c: out, cOffset: 0, cBatchStride: 0, accumulate: !withBias, bias: withBias ? bias : null,
      });
      return out;
    };
    for (const transB of [true, false]) {
      withBackend('wasm', () => setNumThreads(1));
      const one = run(transB, false);
      expect(run(transB, true)).toEqual(one);
      for (const threads of [2, 3]) {
        withBackend('wasm', () => setNumThreads(threads));
        await withBackend('wasm', () => threadsReady());
        for (let i = 0; i < 3; i++) expect(run(transB, true)).toEqual(one);
      }
    }
  });

  it('a bias row gives the bits of the bias copied into C and accumulated onto, on 1 and 2 threads', async () => {
    const [m, n, k] = [64, 256, 200];
    const a = rand(m * k, 31);
    const b = rand(n * k, 32);
    const bias = rand(n, 33);
    const run = (withBias: boolean): Float32Array => {
      const out = new Float32Array(m * n);
      if (!withBias) for (let r = 0; r < m; r++) out.set(bias, r * n);
      wasmGemm({
        batch: 1, m, n, k, transA: false, transB: true, a, aOffset: 0, aBatchStride: 0, b, bOffset: 0, bBatchStride: 0,
        c: out, cOffset: 0, cBatchStride: 0, accumulate: !withBias, bias: withBias ? bias : null,
      });
      return out;
    };
    withBackend('wasm', () => setNumThreads(1));
    const preloaded = run(false);
    expect(run(true)).toEqual(preloaded);
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    for (let i = 0; i < 5; i++) expect(run(true)).toEqual(preloaded);
  });

  it('4 threads, tasks alternating between 2 and 4 threads, accumulating: the 1-thread results', async () => {
    // Workers that sit out a small task must not run the next big one twice or half-read.
    const small = { m: 64, n: 64, k: 40 }; // wakes 2 threads
    const big = { m: 128, n: 128, k: 80 }; // wakes 4
    const run = (threads: number): Float32Array[] => {
      withBackend('wasm', () => setNumThreads(threads));
      const outs = [small, big].map((s) => new Float32Array(s.m * s.n));
      for (let i = 0; i < 25; i++) {
        [small, big].forEach((s, j) => wasmGemm({
          batch: 1, m: s.m, n: s.n, k: s.k, transA: false, transB: false,
          a: rand(s.m * s.k, 20 + i), aOffset: 0, aBatchStride: 0, b: rand(s.k * s.n, 40 + i), bOffset: 0, bBatchStride: 0,
          c: outs[j]!, cOffset: 0, cBatchStride: 0, accumulate: true,
        }));
      }
      return outs;
    };
    const one = run(1);
    withBackend('wasm', () => setNumThreads(4));
    await withBackend('wasm', () => threadsReady());
    for (let rep = 0; rep < 3; rep++) expect(run(4)).toEqual(one);
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBe(4);
  });

  it('matmul and conv2d on the wasm backend match the reference backend', () => {
    manualSeed(3);
    const x = randn([2, 3, 70, 90]);
    const y = randn([2, 90, 50]);
    const w = randn([8, 3, 3, 3]);
    const onBoth = <T>(fn: () => T): [T, T] => [withBackend('wasm', fn), withBackend('reference', fn)];
    const [mw, mr] = onBoth(() => x.matmul(y.unsqueeze(1)).dataSync());
    const [cw, cr] = onBoth(() => conv2d(x, w, null, { padding: 1, stride: 2 }).dataSync());
    for (const [p, q] of [[mw, mr], [cw, cr]] as const) {
      expect(p.length).toBe(q.length);
      for (let i = 0; i < p.length; i++) expect(Math.abs(p[i]! - q[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(q[i]!)));
    }
    expect(tensor([1]).dtype).toBe('float32');
  });
});
