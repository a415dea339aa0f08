import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, kernels, setNumThreads, threadsReady, withBackend, type WindowGeometry } from '../../backend.js';
import { maxPool2d, noGrad, tensor, wasmInfo } from '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { firstBitDifference, rand } from './test-utils/data.js';

function geometry(batch: number, channels: number, H: number, W: number, ceil = false): WindowGeometry {
  const o = (s: number) => (ceil ? Math.ceil((s - 2) / 2) + 1 : Math.floor((s - 2) / 2) + 1);
  return { batch, channels, inSize: [H, W], kernel: [2, 2], stride: [2, 2], padBegin: [0, 0], padEnd: [0, 0], dilation: [1, 1], outSize: [o(H), o(W)] };
}

/** Values with many ties (a few distinct levels), NaNs and infinities mixed in. */
function data(n: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const r = s % 100;
    out[i] = r < 3 ? Number.NaN : r < 5 ? Number.POSITIVE_INFINITY : r < 7 ? Number.NEGATIVE_INFINITY : (r % 7) - 3;
  }
  return out;
}

describe('wasm max pooling against the reference', () => {
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  const shapes: [number, number, number, number][] = [[2, 3, 28, 28], [1, 2, 7, 9], [3, 1, 10, 17], [1, 1, 2, 2], [2, 2, 5, 3], [1, 4, 16, 34]];
  for (const [n, c, h, w] of shapes) {
    it(`[${n},${c},${h},${w}]: values and argmax indices (ties, NaN, ±Infinity, odd sizes)`, () => {
      const g = geometry(n, c, h, w);
      const x = data(n * c * h * w, h * 31 + w);
      const size = n * c * g.outSize[0]! * g.outSize[1]!;
      const outRef = new Float32Array(size);
      const idxRef = new Int32Array(size);
      referenceKernels.maxPool(x, g, outRef, idxRef);
      const out = new Float32Array(size);
      const idx = new Int32Array(size);
      withBackend('wasm', () => kernels().maxPool(x, g, out, idx));
      expect(Array.from(out)).toEqual(Array.from(outRef));
      expect(Array.from(idx)).toEqual(Array.from(idxRef));
      // Backward through those indices: the SIMD kernel writes every dx element (also the odd
      // last row/column no window covers); dy has NaN, ±0 and infinities too.
      const dy = data(size, w * 17 + h);
      for (let i = 0; i < size; i += 5) dy[i] = -0;
      // dx holds garbage: the kernels write every element and never read it.
      const dxRef = new Float32Array(x.length).fill(Number.NaN);
      referenceKernels.maxPoolBackward(dy, idxRef, g, dxRef);
      const dx = new Float32Array(x.length).fill(7);
      withBackend('wasm', () => kernels().maxPoolBackward(dy, idx, g, dx));
      expect(Array.from(dx)).toEqual(Array.from(dxRef));
    });
  }

  it('backward of overlapping and padded windows (3×3, stride 2, padding 1; 1-D; 3-D) scatters like the reference', () => {
    const geos: WindowGeometry[] = [
      { batch: 2, channels: 3, inSize: [9, 8], kernel: [3, 3], stride: [2, 2], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], outSize: [5, 4] },
      { batch: 3, channels: 2, inSize: [11], kernel: [3], stride: [1], padBegin: [0], padEnd: [0], dilation: [2], outSize: [7] },
      { batch: 1, channels: 2, inSize: [4, 5, 6], kernel: [2, 2, 2], stride: [1, 2, 2], padBegin: [0, 0, 0], padEnd: [0, 0, 0], dilation: [1, 1, 1], outSize: [3, 2, 3] },
    ];
    for (const g of geos) {
      const inPlane = g.inSize.reduce((a, b) => a * b, 1);
      const L = g.outSize.reduce((a, b) => a * b, 1);
      const x = data(g.batch * g.channels * inPlane, inPlane);
      const out = new Float32Array(g.batch * g.channels * L);
      const idx = new Int32Array(out.length);
      referenceKernels.maxPool(x, g, out, idx);
      const dy = rand(out.length, 3);
      const dxRef = new Float32Array(x.length).fill(Number.NaN);
      referenceKernels.maxPoolBackward(dy, idx, g, dxRef);
      const dx = new Float32Array(x.length).fill(-3);
      withBackend('wasm', () => kernels().maxPoolBackward(dy, idx, g, dx));
      expect(Array.from(dx)).toEqual(Array.from(dxRef));
    }
  });

  // Other 2-D windows' forward runs in Wasm: whole windows four per vector (width stride 1 or
  // 2), partial ones per output. Sizes put vector runs, scalar tails and padded edges in rows.
  const windows: WindowGeometry[] = [
    { batch: 2, channels: 3, inSize: [16, 16], kernel: [3, 3], stride: [2, 2], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], outSize: [8, 8] },
    { batch: 1, channels: 2, inSize: [13, 23], kernel: [3, 3], stride: [2, 2], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], outSize: [7, 12] },
    { batch: 2, channels: 2, inSize: [9, 14], kernel: [3, 3], stride: [1, 1], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], outSize: [9, 14] },
    { batch: 1, channels: 3, inSize: [10, 19], kernel: [2, 3], stride: [1, 2], padBegin: [0, 1], padEnd: [0, 1], dilation: [1, 1], outSize: [9, 10] },
    { batch: 1, channels: 2, inSize: [12, 15], kernel: [3, 2], stride: [3, 3], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], outSize: [4, 6] },
    { batch: 2, channels: 1, inSize: [11, 13], kernel: [3, 3], stride: [1, 2], padBegin: [2, 1], padEnd: [2, 2], dilation: [2, 2], outSize: [11, 7] },
    // ceil mode: the last windows overhang the input (and padding).
    { batch: 1, channels: 2, inSize: [8, 8], kernel: [3, 3], stride: [2, 2], padBegin: [1, 1], padEnd: [2, 2], dilation: [1, 1], outSize: [5, 5] },
  ];
  for (const g of windows) {
    it(`${g.kernel.join('×')} window, stride ${g.stride.join('×')}, padding ${g.padBegin.join('×')}, dilation ${g.dilation.join('×')} over ${g.inSize.join('×')}: values and indices`, () => {
      const n = g.batch * g.channels * g.inSize[0]! * g.inSize[1]!;
      const size = g.batch * g.channels * g.outSize[0]! * g.outSize[1]!;
      // Ties, NaN and ±Infinity; −0 beside +0, so the first maximum must win.
      const x = data(n, size).map((v, j) => (v === 0 && j % 2 === 0 ? -0 : v));
      const [outRef, idxRef, out, idx, values] = [new Float32Array(size), new Int32Array(size), new Float32Array(size), new Int32Array(size), new Float32Array(size)];
      referenceKernels.maxPool(x, g, outRef, idxRef);
      withBackend('wasm', () => kernels().maxPool(x, g, out, idx));
      withBackend('wasm', () => kernels().maxPool(x, g, values, null));
      const bits = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
      expect(bits(out)).toEqual(bits(outRef));
      expect(Array.from(idx)).toEqual(Array.from(idxRef));
      expect(bits(values)).toEqual(bits(outRef));
    });
  }

  it('gives bit-identical results on 1, 2 and 3 threads for inputs large enough to split', async () => {
    const g2 = geometry(4, 8, 64, 62);
    const g3: WindowGeometry = { ...g2, kernel: [3, 3], padBegin: [1, 1], padEnd: [1, 1], outSize: [32, 31] };
    const x = rand(4 * 8 * 64 * 62, 11);
    const runAll = (threads: number) => withBackend('wasm', () => {
      setNumThreads(threads);
      const res: Array<Float32Array | Int32Array> = [];
      for (const g of [g2, g3]) {
        const L = g.batch * g.channels * g.outSize[0]! * g.outSize[1]!;
        const out = new Float32Array(L);
        const idx = new Int32Array(L);
        kernels().maxPool(x, g, out, idx);
        const dx = new Float32Array(x.length);
        kernels().maxPoolBackward(rand(L, 12), idx, g, dx);
        res.push(out, idx, dx);
      }
      return res;
    });
    const one = runAll(1);
    for (const threads of [2, 3]) {
      withBackend('wasm', () => setNumThreads(threads));
      await withBackend('wasm', () => threadsReady());
      expect(runAll(threads)).toEqual(one);
    }
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
  });
  it('without indices (inference) gives the same bits as with them: ±0 ties, NaN, every path, 1 and 2 threads', async () => {
    const bits = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
    const cases: WindowGeometry[] = [
      geometry(2, 3, 28, 28), geometry(1, 2, 7, 9), geometry(64, 6, 28, 28),
      { batch: 2, channels: 3, inSize: [11, 13], kernel: [3, 3], stride: [2, 2], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], outSize: [6, 7] },
    ];
    for (const threads of [1, 2]) {
      withBackend('wasm', () => setNumThreads(threads));
      await withBackend('wasm', () => threadsReady());
      cases.forEach((g, i) => {
        const n = g.batch * g.channels * g.inSize[0]! * g.inSize[1]!;
        // −0 and +0 in every window half the time: the first maximum must win as with indices.
        const x = data(n, i + 5).map((v, j) => (v === 0 && j % 2 === 0 ? -0 : v));
        const size = g.batch * g.channels * g.outSize[0]! * g.outSize[1]!;
        const withIdx = new Float32Array(size);
        referenceKernels.maxPool(x, g, withIdx, new Int32Array(size));
        for (const backend of ['reference', 'wasm']) {
          const out = new Float32Array(size);
          withBackend(backend, () => kernels().maxPool(x, g, out, null));
          expect(bits(out), `${backend}, case ${i}, ${threads} thread(s)`).toEqual(bits(withIdx));
        }
      });
    }
  });

  it('reads and writes x, y, indices, dy and dx in place where they are in the Wasm memory, with the bits of staged copies, on 1, 2 and 3 threads', async () => {
    if (!withBackend('wasm', () => kernels().residentArrays?.([1]) ?? null)) return; // no shared memory: nothing is ever resident
    const before = withBackend('wasm', () => getNumThreads());
    const i32 = (a: Float32Array) => new Int32Array(a.buffer, a.byteOffset, a.length);
    // The 2×2 passes (with and without indices), any window's forward and scatter backward;
    // large enough to split between threads.
    const cases: WindowGeometry[] = [
      geometry(16, 6, 28, 28), geometry(3, 5, 11, 9),
      { batch: 4, channels: 8, inSize: [17, 16], kernel: [3, 3], stride: [2, 2], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], outSize: [9, 8] },
    ];
    try {
      for (const threads of [1, 2, 3]) {
        withBackend('wasm', () => setNumThreads(threads));
        await withBackend('wasm', () => threadsReady());
        cases.forEach((g, c) => {
          const n = g.batch * g.channels * g.inSize[0]! * g.inSize[1]!;
          const size = g.batch * g.channels * g.outSize[0]! * g.outSize[1]!;
          const x = data(n, c + 31);
          const dy = data(size, c + 32);
          const pools = (xa: Float32Array, ya: Float32Array, va: Float32Array, idxa: Int32Array, dya: Float32Array, dxa: Float32Array) => withBackend('wasm', () => {
            kernels().maxPool(xa, g, ya, idxa);
            kernels().maxPool(xa, g, va, null);
            kernels().maxPoolBackward(dya, idxa, g, dxa);
            return [ya, va, new Float32Array(idxa.buffer, idxa.byteOffset, idxa.length), dxa];
          });
          const staged = pools(x, new Float32Array(size), new Float32Array(size), new Int32Array(size), dy, new Float32Array(n));
          const [xr, yr, vr, idxr, dyr, dxr] = withBackend('wasm', () => kernels().residentArrays!([n, size, size, size, size, n])!) as Float32Array[];
          xr!.set(x);
          dyr!.set(dy);
          dxr!.fill(Number.NaN); // the kernels write every element
          const inPlace = pools(xr!, yr!, vr!, i32(idxr!), dyr!, dxr!);
          expect(inPlace.map((a, i) => firstBitDifference(a, staged[i]!)), `case ${c}, ${threads} thread(s)`).toEqual([-1, -1, -1, -1]);
        });
      }
    } finally {
      withBackend('wasm', () => setNumThreads(before));
    }
  });

  it('maxPool2d under noGrad (no indices asked for) gives the values of a recorded call, and returnIndices still works', () => {
    const x = tensor(data(2 * 3 * 28 * 28, 9), { shape: [2, 3, 28, 28], requiresGrad: true });
    const recorded = withBackend('wasm', () => maxPool2d(x, 2).dataSync() as Float32Array);
    const inference = withBackend('wasm', () => noGrad(() => maxPool2d(x, 2).dataSync() as Float32Array));
    expect(Array.from(inference)).toEqual(Array.from(recorded));
    const [, indices] = withBackend('wasm', () => noGrad(() => maxPool2d(x, { kernelSize: 2, returnIndices: true })));
    expect(indices.shape).toEqual([2, 3, 14, 14]);
    expect((indices.dataSync() as Int32Array).every((v) => v >= 0 && v < 28 * 28)).toBe(true);
  });

  it('ceil-mode overhang goes to the general path and still matches', () => {
    const g = geometry(1, 2, 7, 7, true);
    const x = data(98, 5);
    const size = 2 * 16;
    const [o1, i1, o2, i2] = [new Float32Array(size), new Int32Array(size), new Float32Array(size), new Int32Array(size)];
    referenceKernels.maxPool(x, g, o1, i1);
    withBackend('wasm', () => kernels().maxPool(x, g, o2, i2));
    expect(Array.from(o2)).toEqual(Array.from(o1));
    expect(Array.from(i2)).toEqual(Array.from(i1));
  });
});
