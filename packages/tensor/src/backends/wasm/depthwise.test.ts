import { afterAll, describe, expect, it, vi } from 'vitest';
import { getNumThreads, kernels, setNumThreads, threadsReady, withBackend, type WindowGeometry } from '../../backend.js';
import { wasmInfo } from '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { wasmPool } from './index.js';
import { rand, worst } from './test-utils/data.js';

interface Case {
  name: string;
  batch: number;
  channels: number;
  /** Output channels per input channel (the depth multiplier). */
  mult: number;
  inSize: number[];
  kernel: number[];
  stride: number[];
  pad: number[];
  padEnd?: number[];
  dilation: number[];
}

const prod = (v: number[]): number => v.reduce((a, b) => a * b, 1);

function geometryOf(c: Case): WindowGeometry {
  const padEnd = c.padEnd ?? c.pad;
  const outSize = c.inSize.map((s, i) => Math.floor((s + c.pad[i]! + padEnd[i]! - c.dilation[i]! * (c.kernel[i]! - 1) - 1) / c.stride[i]!) + 1);
  return { batch: c.batch, channels: c.channels, inSize: c.inSize, kernel: c.kernel, stride: c.stride, padBegin: c.pad, padEnd, dilation: c.dilation, outSize };
}

const cases: Case[] = [
  { name: '3×3 stride 1 pad 1 (MobileNet)', batch: 2, channels: 6, mult: 1, inSize: [14, 14], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: '3×3 stride 1 pad 1, 7 rows of 13 (rows end in a 5-wide group)', batch: 2, channels: 5, mult: 1, inSize: [7, 13], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: '3×3 stride 1 pad 1 on 7×7 (the last MobileNetV2 stage: one partial group per row)', batch: 1, channels: 4, mult: 1, inSize: [7, 7], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: '3×3 stride 2 pad 1, odd sizes', batch: 3, channels: 5, mult: 1, inSize: [15, 13], kernel: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [1, 1] },
  { name: '3×3 stride 2 pad 1, wide rows (register-weight body and tail)', batch: 2, channels: 3, mult: 1, inSize: [9, 37], kernel: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [1, 1] },
  { name: '3×3 stride 1 pad 1, wide rows, no bias lanes left over', batch: 2, channels: 3, mult: 2, inSize: [7, 32], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: '5×5 stride 1 pad 2, wide rows (vector body and tail)', batch: 2, channels: 4, mult: 1, inSize: [9, 29], kernel: [5, 5], stride: [1, 1], pad: [2, 2], dilation: [1, 1] },
  { name: '5×5 stride 2 pad 2, odd sizes', batch: 2, channels: 3, mult: 1, inSize: [23, 21], kernel: [5, 5], stride: [2, 2], pad: [2, 2], dilation: [1, 1] },
  { name: '3×3 dilation 2 pad 2', batch: 2, channels: 4, mult: 1, inSize: [17, 19], kernel: [3, 3], stride: [1, 1], pad: [2, 2], dilation: [2, 2] },
  { name: 'no padding, windows short of the edge', batch: 1, channels: 3, mult: 1, inSize: [12, 12], kernel: [3, 3], stride: [2, 2], pad: [0, 0], dilation: [1, 1] },
  { name: "'same' padding of an even kernel (asymmetric)", batch: 2, channels: 3, mult: 1, inSize: [10, 11], kernel: [4, 2], stride: [1, 1], pad: [1, 0], padEnd: [2, 1], dilation: [1, 1] },
  { name: 'stride 3 with dilation, uneven per dim', batch: 2, channels: 2, mult: 1, inSize: [20, 33], kernel: [3, 3], stride: [1, 3], pad: [1, 2], dilation: [2, 1] },
  { name: 'depth multiplier 2', batch: 2, channels: 3, mult: 2, inSize: [11, 18], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: '1-D, 5 taps, stride 2', batch: 3, channels: 4, mult: 1, inSize: [41], kernel: [5], stride: [2], pad: [2], dilation: [1] },
];

describe('wasm depthwise convolution against the reference kernels', () => {
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  for (const threads of [1, 2]) {
    for (const c of cases) {
      it(`${c.name} on ${threads} thread(s): forward, input and weight gradients`, async () => {
        withBackend('wasm', () => setNumThreads(threads));
        await withBackend('wasm', () => threadsReady());
        const g = geometryOf(c);
        const cOut = c.channels * c.mult;
        const xSize = c.batch * c.channels * prod(c.inSize);
        const ySize = c.batch * cOut * prod(g.outSize);
        const wSize = cOut * prod(c.kernel);
        const x = rand(xSize, 1);
        const w = rand(wSize, 2);
        const dy = rand(ySize, 3);
        const wasm = <T>(fn: () => T): T => withBackend('wasm', fn);
        // The reference composes its kernels from the active backend's GEMM: keep it on the reference.
        const reference = <T>(fn: () => T): T => withBackend('reference', fn);
        const spy = vi.spyOn(wasmPool!, 'run');
        try {
          for (const bias of [null, rand(cOut, 6)]) {
            const yRef = new Float32Array(ySize);
            reference(() => referenceKernels.convForward(x, w, bias, g, cOut, c.channels, yRef));
            const y = new Float32Array(ySize).fill(Number.NaN); // every output must be written
            wasm(() => kernels().convForward(x, w, bias, g, cOut, c.channels, y));
            expect(worst(y, yRef), `forward, bias ${bias !== null}`).toBeLessThan(1e-5);
            // With a fused clamp: the same sums, clamped.
            const yc = new Float32Array(ySize).fill(Number.NaN);
            wasm(() => kernels().convForward(x, w, bias, g, cOut, c.channels, yc, [-0.2, 0.3]));
            expect(yc, `clamped forward, bias ${bias !== null}`).toEqual(y.map((v) => Math.min(Math.max(v, -0.2), 0.3)));
          }
          // The gradients accumulate into what the caller passes (random here, zeros in the ops).
          const dx0 = rand(xSize, 4);
          const dxRef = dx0.slice();
          reference(() => referenceKernels.convBackwardInput(dy, w, g, cOut, c.channels, dxRef));
          const dx = dx0.slice();
          wasm(() => kernels().convBackwardInput(dy, w, g, cOut, c.channels, dx));
          expect(worst(dx, dxRef), 'input gradient').toBeLessThan(1e-5);

          const dw0 = rand(wSize, 5);
          const dwRef = dw0.slice();
          reference(() => referenceKernels.convBackwardWeight(x, dy, g, cOut, c.channels, dwRef));
          const dw = dw0.slice();
          wasm(() => kernels().convBackwardWeight(x, dy, g, cOut, c.channels, dw));
          expect(worst(dw, dwRef), 'weight gradient').toBeLessThan(1e-5);
          // The direct kernel ran every pass: no GEMM per group.
          expect(spy.mock.calls.map((call) => call[0])).toEqual(new Array(6).fill('depthwiseTask'));
        } finally {
          spy.mockRestore();
        }
      });
    }
  }

  it('gives bit-identical results on 1 and 2 threads (large enough to split)', async () => {
    const c: Case = { name: 'split', batch: 3, channels: 16, mult: 1, inSize: [28, 27], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] };
    const g = geometryOf(c);
    const x = rand(c.batch * c.channels * prod(c.inSize), 7);
    const w = rand(c.channels * 9, 8);
    const dy = rand(c.batch * c.channels * prod(g.outSize), 9);
    const runAll = (threads: number, stride: number) => withBackend('wasm', () => {
      setNumThreads(threads);
      const gs = geometryOf({ ...c, stride: [stride, stride] });
      const dys = dy.subarray(0, c.batch * c.channels * prod(gs.outSize));
      const y = new Float32Array(dys.length);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      kernels().convForward(x, w, rand(c.channels, 10), gs, c.channels, c.channels, y);
      kernels().convBackwardInput(dys, w, gs, c.channels, c.channels, dx);
      kernels().convBackwardWeight(x, dys, gs, c.channels, c.channels, dw);
      return [y, dx, dw];
    });
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    for (const stride of [1, 2]) {
      const one = runAll(1, stride);
      for (let i = 0; i < 3; i++) expect(runAll(2, stride)).toEqual(one);
    }
    expect(g.outSize).toEqual([28, 27]);
    // The single-threaded build (no shared memory: a page that is not cross-origin isolated) has no workers.
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
    else expect(wasmInfo()!.maxThreadsUsed).toBe(1);
  });
});
