import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, kernels, setNumThreads, threadsReady, withBackend, type WindowGeometry } from '../../backend.js';
import { wasmInfo } from '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { rand, worst } from './test-utils/data.js';
import { isWinograd } from './winograd.js';

interface Case {
  name: string;
  batch: number;
  cIn: number;
  cOut: number;
  inSize: [number, number];
  pad: [number, number];
  padEnd?: [number, number];
}

function geometryOf(c: Case): WindowGeometry {
  const padEnd = c.padEnd ?? c.pad;
  const outSize = c.inSize.map((s, i) => s + c.pad[i]! + padEnd[i]! - 2);
  return { batch: c.batch, channels: c.cIn, inSize: c.inSize, kernel: [3, 3], stride: [1, 1], padBegin: c.pad, padEnd, dilation: [1, 1], outSize };
}

const as3d = (g: WindowGeometry) => [[1, ...g.inSize], [1, ...g.kernel], [1, ...g.stride], [0, ...g.padBegin], [1, ...g.dilation], [1, ...g.outSize]];

const cases: Case[] = [
  { name: 'ResNet-18 layer1 on 32×32 images (8×8, 64 → 64, pad 1)', batch: 5, cIn: 64, cOut: 64, inSize: [8, 8], pad: [1, 1] },
  { name: 'ResNet-18 layer3 (2×2 maps: one tile per item)', batch: 6, cIn: 32, cOut: 48, inSize: [2, 2], pad: [1, 1] },
  { name: 'odd sizes, pad 1 (partial tiles at the right and bottom)', batch: 3, cIn: 17, cOut: 19, inSize: [7, 5], pad: [1, 1] },
  { name: 'odd sizes, no padding', batch: 2, cIn: 16, cOut: 20, inSize: [9, 6], pad: [0, 0] },
  { name: 'padding 2 (the input gradient then has none)', batch: 2, cIn: 16, cOut: 16, inSize: [5, 6], pad: [2, 2] },
  { name: "uneven padding ('same'-like, 0 before and 2 after)", batch: 2, cIn: 18, cOut: 16, inSize: [6, 7], pad: [0, 1], padEnd: [2, 1] },
  { name: 'batch 1, a larger map (tiles split over the chunk)', batch: 1, cIn: 24, cOut: 32, inSize: [19, 22], pad: [1, 1] },
  { name: 'many items (several chunks)', batch: 26, cIn: 64, cOut: 64, inSize: [8, 8], pad: [1, 1] },
];

/**
 * Worst relative error allowed against the reference's float32 sums: 3× conv.test's 1e-5, as the
 * transforms add roundings of their own (the float64 test below bounds them against the exact sum).
 */
const WINOGRAD_TOLERANCE = 3e-5;

/** max |a − exact| over the elements. */
function maxError(a: Float32Array, exact: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - exact[i]!));
  return m;
}

describe('wasm Winograd F(2×2, 3×3) convolution against the reference', () => {
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  it('is chosen only for 3×3, stride 1, undilated, ungrouped convolutions with enough channels', () => {
    const g = geometryOf(cases[0]!);
    expect(isWinograd(as3d(g), 64, 64, 1)).toBe(true);
    expect(isWinograd(as3d(g), 64, 64, 2)).toBe(false);
    expect(isWinograd(as3d(g), 3, 64, 1)).toBe(false);
    expect(isWinograd(as3d({ ...g, stride: [2, 2] }), 64, 64, 1)).toBe(false);
    expect(isWinograd(as3d({ ...g, dilation: [2, 2] }), 64, 64, 1)).toBe(false);
    expect(isWinograd(as3d({ ...g, kernel: [5, 5] }), 64, 64, 1)).toBe(false);
    expect(isWinograd(as3d({ ...g, padBegin: [3, 3] }), 64, 64, 1)).toBe(false);
    // Outputs whose tiles are mostly padding stay direct: 1×1, 1×n, 3×3.
    for (const outSize of [[1, 1], [1, 9], [3, 3]]) expect(isWinograd(as3d({ ...g, outSize }), 64, 64, 1), `${outSize}`).toBe(false);
    for (const outSize of [[2, 2], [5, 5], [2, 7]]) expect(isWinograd(as3d({ ...g, outSize }), 64, 64, 1), `${outSize}`).toBe(true);
  });

  for (const threads of [1, 2]) {
    for (const c of cases) {
      it(`${c.name} on ${threads} thread(s): forward (bias, clamp), input and weight gradients`, () => {
        withBackend('wasm', () => setNumThreads(threads));
        const g = geometryOf(c);
        expect(isWinograd(as3d(g), c.cIn, c.cOut, 1)).toBe(true);
        const xSize = c.batch * c.cIn * c.inSize[0] * c.inSize[1];
        const ySize = c.batch * c.cOut * g.outSize[0]! * g.outSize[1]!;
        const x = rand(xSize, 1);
        const w = rand(c.cOut * c.cIn * 9, 2);
        const dy = rand(ySize, 3);
        const wasm = <T>(fn: () => T): T => withBackend('wasm', fn);
        for (const bias of [null, rand(c.cOut, 6)]) {
          const yRef = new Float32Array(ySize);
          referenceKernels.convForward(x, w, bias, g, c.cOut, 1, yRef);
          const y = new Float32Array(ySize).fill(Number.NaN); // every output must be written
          wasm(() => kernels().convForward(x, w, bias, g, c.cOut, 1, y));
          expect(worst(y, yRef), `forward, bias ${bias !== null}`).toBeLessThan(WINOGRAD_TOLERANCE);
          const clamp = [-0.3, 0.4] as const;
          const yc = new Float32Array(ySize).fill(Number.NaN);
          wasm(() => kernels().convForward(x, w, bias, g, c.cOut, 1, yc, clamp));
          expect(yc).toEqual(y.map((v) => Math.min(Math.max(v, clamp[0]), clamp[1])));
        }
        // The input gradient accumulates into what the caller passes.
        const dx0 = rand(xSize, 4);
        const dxRef = dx0.slice();
        referenceKernels.convBackwardInput(dy, w, g, c.cOut, 1, dxRef);
        const dx = dx0.slice();
        wasm(() => kernels().convBackwardInput(dy, w, g, c.cOut, 1, dx));
        expect(worst(dx, dxRef), 'input gradient').toBeLessThan(WINOGRAD_TOLERANCE);
        // The weight gradient (and the bias gradient beside it) accumulate too.
        const dw0 = rand(c.cOut * c.cIn * 9, 5);
        const db0 = rand(c.cOut, 6);
        const [dwRef, dbRef, dw, db] = [dw0.slice(), db0.slice(), dw0.slice(), db0.slice()];
        referenceKernels.convBackwardWeight(x, dy, g, c.cOut, 1, dwRef, dbRef);
        wasm(() => kernels().convBackwardWeight(x, dy, g, c.cOut, 1, dw, db));
        expect(worst(dw, dwRef), 'weight gradient').toBeLessThan(WINOGRAD_TOLERANCE);
        expect(worst(db, dbRef), 'bias gradient').toBeLessThan(1e-6);
        const dwNoBias = dw0.slice();
        wasm(() => kernels().convBackwardWeight(x, dy, g, c.cOut, 1, dwNoBias));
        expect(dwNoBias).toEqual(dw);
      });
    }
  }

  it('stays within a small factor of the direct float32 sums\' error (both against float64)', () => {
    withBackend('wasm', () => setNumThreads(1));
    const c = cases[0]!;
    const g = geometryOf(c);
    const x = rand(c.batch * c.cIn * 64, 11);
    const w = rand(c.cOut * c.cIn * 9, 12);
    const dy = rand(c.batch * c.cOut * 64, 13);
    const exactY = new Float64Array(dy.length);
    referenceKernels.convForward(Float64Array.from(x), Float64Array.from(w), null, g, c.cOut, 1, exactY);
    const exactDx = new Float64Array(x.length);
    referenceKernels.convBackwardInput(Float64Array.from(dy), Float64Array.from(w), g, c.cOut, 1, exactDx);
    const [yRef, y, dxRef, dx] = [new Float32Array(dy.length), new Float32Array(dy.length), new Float32Array(x.length), new Float32Array(x.length)];
    referenceKernels.convForward(x, w, null, g, c.cOut, 1, yRef);
    referenceKernels.convBackwardInput(dy, w, g, c.cOut, 1, dxRef);
    withBackend('wasm', () => {
      kernels().convForward(x, w, null, g, c.cOut, 1, y);
      kernels().convBackwardInput(dy, w, g, c.cOut, 1, dx);
    });
    // Outputs here are sums of 576 products of [-1, 1) values (magnitude ~8); the direct float32
    // sum is off by ~1e-6. The transforms add a few roundings of the inputs' magnitude.
    expect(maxError(y, exactY)).toBeLessThan(4 * maxError(yRef, exactY) + 1e-6);
    expect(maxError(dx, exactDx)).toBeLessThan(4 * maxError(dxRef, exactDx) + 1e-6);
    const exactDw = new Float64Array(w.length);
    referenceKernels.convBackwardWeight(Float64Array.from(x), Float64Array.from(dy), g, c.cOut, 1, exactDw);
    const [dwRef, dw] = [new Float32Array(w.length), new Float32Array(w.length)];
    referenceKernels.convBackwardWeight(x, dy, g, c.cOut, 1, dwRef);
    withBackend('wasm', () => kernels().convBackwardWeight(x, dy, g, c.cOut, 1, dw));
    expect(maxError(dw, exactDw)).toBeLessThan(4 * maxError(dwRef, exactDw) + 1e-6);
  });

  it('gives bit-identical results on 1 and 2 threads', async () => {
    for (const c of [cases[0]!, cases[2]!, cases[6]!, cases[7]!]) {
      const g = geometryOf(c);
      const x = rand(c.batch * c.cIn * c.inSize[0] * c.inSize[1], 7);
      const w = rand(c.cOut * c.cIn * 9, 8);
      const dy = rand(c.batch * c.cOut * g.outSize[0]! * g.outSize[1]!, 9);
      const b = rand(c.cOut, 10);
      const runAll = (threads: number) => withBackend('wasm', () => {
        setNumThreads(threads);
        const y = new Float32Array(dy.length);
        const dx = new Float32Array(x.length);
        kernels().convForward(x, w, b, g, c.cOut, 1, y, [-0.5, 0.5]);
        kernels().convBackwardInput(dy, w, g, c.cOut, 1, dx);
        const dw = new Float32Array(w.length);
        kernels().convBackwardWeight(x, dy, g, c.cOut, 1, dw);
        return [y, dx, dw];
      });
      const one = runAll(1);
      withBackend('wasm', () => setNumThreads(2));
      await withBackend('wasm', () => threadsReady());
      for (let i = 0; i < 2; i++) expect(runAll(2), c.name).toEqual(one);
    }
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
  });

  it('reads and writes arrays already in the Wasm memory in place, with the bits of staged copies, on 1, 2 and 3 threads', async () => {
    const before = withBackend('wasm', () => getNumThreads());
    const bits = (a: Float32Array) => new Int32Array(a.slice().buffer);
    try {
      // Several chunks (ResNet-18 layer1 at batch 32), and partial tiles.
      for (const c of [{ ...cases[0]!, batch: 32 }, cases[2]!]) {
        const g = geometryOf(c);
        const x = rand(c.batch * c.cIn * c.inSize[0] * c.inSize[1], 31);
        const w = rand(c.cOut * c.cIn * 9, 32);
        const dy = rand(c.batch * c.cOut * g.outSize[0]! * g.outSize[1]!, 33);
        // The input gradient and weight gradient accumulate into what is there.
        const dx0 = rand(x.length, 34);
        const dw0 = rand(w.length, 35);
        const convs = (xa: Float32Array, dya: Float32Array, ya: Float32Array, dxa: Float32Array, dwa: Float32Array) => {
          kernels().convForward(xa, w, null, g, c.cOut, 1, ya);
          kernels().convBackwardInput(dya, w, g, c.cOut, 1, dxa);
          kernels().convBackwardWeight(xa, dya, g, c.cOut, 1, dwa);
          return [ya, dxa, dwa];
        };
        const staged = withBackend('wasm', () => {
          setNumThreads(1);
          return convs(x, dy, new Float32Array(dy.length), dx0.slice(), dw0.slice());
        });
        for (const threads of [1, 2, 3]) {
          withBackend('wasm', () => setNumThreads(threads));
          await withBackend('wasm', () => threadsReady());
          const arrays = withBackend('wasm', () => kernels().residentArrays?.([x.length, dy.length, dy.length, x.length, w.length]) ?? null);
          if (!arrays) return; // no shared Wasm memory in this build: nothing is ever resident
          const [xr, dyr, yr, dxr, dwr] = arrays as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
          xr.set(x);
          dyr.set(dy);
          dxr.set(dx0);
          dwr.set(dw0);
          const inPlace = withBackend('wasm', () => convs(xr, dyr, yr, dxr, dwr));
          // The first differing element of each result (-1: none), not a diff of 100,000 numbers.
          const firstDiff = inPlace.map((a, i) => {
            const want = bits(staged[i]!);
            return bits(a).findIndex((v, j) => v !== want[j]);
          });
          expect(firstDiff, `${c.name}, ${threads} threads`).toEqual([-1, -1, -1]);
        }
      }
    } finally {
      withBackend('wasm', () => setNumThreads(before));
    }
  });
});
