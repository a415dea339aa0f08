import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, kernels, listBackends, setNumThreads, threadsReady, withBackend, type WindowGeometry } from '../../backend.js';
import { conv2d, noGrad, tensor, traceOps, wasmInfo, type ConvOptions, type Tensor } from '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { sizeOf } from '../../shape.js';
import { cropDeadTaps, cropWeights, uncropWeights } from './conv-taps.js';
import { firstBitDifference, rand, worst } from './test-utils/data.js';



interface Case {
  name: string;
  batch: number;
  cIn: number;
  cOut: number;
  groups: number;
  inSize: number[];
  kernel: number[];
  stride: number[];
  pad: number[];
  /** Padding after, when it differs from before (as 'same' gives for even kernels). */
  padEnd?: number[];
  dilation: number[];
}

function geometryOf(c: Case): WindowGeometry {
  const padEnd = c.padEnd ?? c.pad;
  const outSize = c.inSize.map((s, i) => Math.floor((s + c.pad[i]! + padEnd[i]! - c.dilation[i]! * (c.kernel[i]! - 1) - 1) / c.stride[i]!) + 1);
  return {
    batch: c.batch, channels: c.cIn, inSize: c.inSize, kernel: c.kernel, stride: c.stride,
    padBegin: c.pad, padEnd, dilation: c.dilation, outSize,
  };
}

const cases: Case[] = [
  { name: 'LeNet conv1 (1→6, 5×5, pad 2)', batch: 3, cIn: 1, cOut: 6, groups: 1, inSize: [28, 28], kernel: [5, 5], stride: [1, 1], pad: [2, 2], dilation: [1, 1] },
  { name: 'LeNet conv2 (6→16, 5×5)', batch: 4, cIn: 6, cOut: 16, groups: 1, inSize: [14, 14], kernel: [5, 5], stride: [1, 1], pad: [0, 0], dilation: [1, 1] },
  { name: 'stride 2, odd sizes', batch: 2, cIn: 3, cOut: 7, groups: 1, inSize: [13, 11], kernel: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [1, 1] },
  { name: 'dilation 2, uneven stride', batch: 2, cIn: 2, cOut: 5, groups: 1, inSize: [17, 19], kernel: [3, 2], stride: [1, 3], pad: [2, 1], dilation: [2, 2] },
  { name: 'groups 2', batch: 3, cIn: 4, cOut: 6, groups: 2, inSize: [9, 9], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: 'depthwise (groups = channels)', batch: 2, cIn: 5, cOut: 5, groups: 5, inSize: [8, 7], kernel: [3, 3], stride: [2, 1], pad: [1, 1], dilation: [1, 1] },
  { name: 'small outputs, many items (several items share one GEMM)', batch: 13, cIn: 8, cOut: 24, groups: 1, inSize: [5, 5], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: 'ResNet layer4-like: 1×1 outputs, stride 2, 25 items', batch: 25, cIn: 16, cOut: 12, groups: 1, inSize: [2, 2], kernel: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [1, 1] },
  { name: 'pointwise 1×1 on a small map, many items', batch: 9, cIn: 6, cOut: 10, groups: 1, inSize: [4, 4], kernel: [1, 1], stride: [1, 1], pad: [0, 0], dilation: [1, 1] },
  { name: 'pointwise 1×1', batch: 3, cIn: 8, cOut: 12, groups: 1, inSize: [6, 5], kernel: [1, 1], stride: [1, 1], pad: [0, 0], dilation: [1, 1] },
  { name: 'pointwise 1×1 with groups', batch: 2, cIn: 6, cOut: 9, groups: 3, inSize: [4, 4], kernel: [1, 1], stride: [1, 1], pad: [0, 0], dilation: [1, 1] },
  { name: 'padding wider than the kernel reach', batch: 1, cIn: 2, cOut: 3, groups: 1, inSize: [3, 4], kernel: [2, 2], stride: [2, 2], pad: [3, 3], dilation: [1, 1] },
  { name: '1-D', batch: 3, cIn: 4, cOut: 6, groups: 2, inSize: [23], kernel: [5], stride: [2], pad: [2], dilation: [1] },
  { name: '3-D', batch: 2, cIn: 2, cOut: 4, groups: 1, inSize: [5, 6, 7], kernel: [3, 2, 3], stride: [1, 2, 1], pad: [1, 0, 1], dilation: [1, 1, 2] },
  { name: "'same' for an even kernel (padding only after)", batch: 2, cIn: 3, cOut: 4, groups: 1, inSize: [7, 8], kernel: [2, 4], stride: [1, 1], pad: [0, 1], padEnd: [1, 2], dilation: [1, 1] },
  { name: 'stride 2 with padding and dilation', batch: 2, cIn: 2, cOut: 3, groups: 1, inSize: [11, 12], kernel: [3, 3], stride: [2, 2], pad: [2, 1], dilation: [2, 1] },
  { name: 'direct few channels: 3→5, 3×3, pad 1, items split between threads', batch: 6, cIn: 3, cOut: 5, groups: 1, inSize: [16, 19], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: 'direct: 2→7, 5×3, row stride 2, no padding', batch: 2, cIn: 2, cOut: 7, groups: 1, inSize: [13, 22], kernel: [5, 3], stride: [2, 1], pad: [0, 0], dilation: [1, 1] },
  { name: 'direct: 1-D, 2→3, kernel 4, uneven padding', batch: 3, cIn: 2, cOut: 3, groups: 1, inSize: [41], kernel: [4], stride: [1], pad: [1], padEnd: [2], dilation: [1] },
  { name: 'taps reading only padding: 3×3 pad 1 over 1×1 maps (ResNet-18 layer4 on 32×32 images)', batch: 4, cIn: 8, cOut: 6, groups: 1, inSize: [1, 1], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: 'taps reading only padding: 3×3 stride 2 pad 1 over 2×2 (4 of 9 taps live: cropped to 2×2)', batch: 3, cIn: 5, cOut: 7, groups: 1, inSize: [2, 2], kernel: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [1, 1] },
  { name: 'taps reading only padding: 1-D, 9 taps pad 4 over 1 sample, groups 2 (1 of 9 live)', batch: 2, cIn: 4, cOut: 6, groups: 2, inSize: [1], kernel: [9], stride: [1], pad: [4], dilation: [1] },
  { name: 'split by rows: several items per GEMM, weights outweighing their columns (32→64, stride 2, 4×4 → 2×2, 6 items)', batch: 6, cIn: 32, cOut: 64, groups: 1, inSize: [4, 4], kernel: [3, 3], stride: [2, 2], pad: [1, 1], dilation: [1, 1] },
  { name: 'split by rows, a partial tile of output channels (7→30, 3×3 pad 1 over 2×2, 5 items)', batch: 5, cIn: 7, cOut: 30, groups: 1, inSize: [2, 2], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
  { name: 'many items (the batch split between threads)', batch: 17, cIn: 3, cOut: 10, groups: 1, inSize: [12, 12], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
];

describe('wasm convolution kernels against the reference', () => {
  // Node, Bun, Deno and current browsers all have Wasm SIMD: the backend must be there.
  it('is registered and active by default', () => {
    expect(listBackends()).toContain('wasm');
  });
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  for (const threads of [1, 2]) {
    for (const c of cases) {
      it(`${c.name} on ${threads} thread(s): forward, input and weight gradients`, () => {
        withBackend('wasm', () => setNumThreads(threads));
        const g = geometryOf(c);
        const cInG = c.cIn / c.groups;
        const K = c.kernel.reduce((a, b) => a * b, 1);
        const xSize = c.batch * c.cIn * c.inSize.reduce((a, b) => a * b, 1);
        const ySize = c.batch * c.cOut * g.outSize.reduce((a, b) => a * b, 1);
        const wSize = c.cOut * cInG * K;
        const x = rand(xSize, 1);
        const w = rand(wSize, 2);
        const dy = rand(ySize, 3);
        const wasm = <T>(fn: () => T): T => withBackend('wasm', fn);

        for (const bias of [null, rand(c.cOut, 6)]) {
          const yRef = new Float32Array(ySize);
          referenceKernels.convForward(x, w, bias, g, c.cOut, c.groups, yRef);
          const y = new Float32Array(ySize).fill(Number.NaN); // every output must be written
          wasm(() => kernels().convForward(x, w, bias, g, c.cOut, c.groups, y));
          expect(worst(y, yRef), `forward, bias ${bias !== null}`).toBeLessThan(1e-5);
          // A fused clamp (ReLU6-like, bounds inside the outputs' range): the clamped sums.
          const clamp = [-0.3, 0.4] as const;
          const yc = new Float32Array(ySize).fill(Number.NaN);
          wasm(() => kernels().convForward(x, w, bias, g, c.cOut, c.groups, yc, clamp));
          expect(yc).toEqual(y.map((v) => Math.min(Math.max(v, clamp[0]), clamp[1])));
          const ycRef = new Float32Array(ySize);
          referenceKernels.convForward(x, w, bias, g, c.cOut, c.groups, ycRef, clamp);
          expect(ycRef).toEqual(yRef.map((v) => Math.min(Math.max(v, clamp[0]), clamp[1])));
        }

        // The input gradient accumulates into what the caller passes (random here, zeros in the
        // ops); the weight gradient overwrites it (NaN here: nothing it held may be read).
        const dx0 = rand(xSize, 4);
        const dxRef = dx0.slice();
        referenceKernels.convBackwardInput(dy, w, g, c.cOut, c.groups, dxRef);
        const dx = dx0.slice();
        wasm(() => kernels().convBackwardInput(dy, w, g, c.cOut, c.groups, dx));
        expect(worst(dx, dxRef), 'input gradient').toBeLessThan(1e-5);

        const dw0 = new Float32Array(wSize).fill(Number.NaN);
        const dwRef = dw0.slice();
        referenceKernels.convBackwardWeight(x, dy, g, c.cOut, c.groups, dwRef);
        const dw = dw0.slice();
        wasm(() => kernels().convBackwardWeight(x, dy, g, c.cOut, c.groups, dw));
        expect(worst(dw, dwRef), 'weight gradient').toBeLessThan(1e-5);
        // With the bias gradient summed in the same pass (accumulated into what the caller passes).
        const db0 = rand(c.cOut, 6);
        const [dw2, db2, dbRef] = [dw0.slice(), db0.slice(), db0.slice()];
        referenceKernels.convBackwardWeight(x, dy, g, c.cOut, c.groups, dw0.slice(), dbRef);
        wasm(() => kernels().convBackwardWeight(x, dy, g, c.cOut, c.groups, dw2, db2));
        expect(worst(dw2, dwRef), 'weight gradient beside the bias gradient').toBeLessThan(1e-5);
        expect(worst(db2, dbRef), 'bias gradient').toBeLessThan(1e-6);
      });
    }
  }

  it.each(['many items', 'small outputs', 'direct few channels'])('gives bit-identical results on 1 and 2 threads (%s)', async (prefix) => {
    const c = cases.find((k) => k.name.startsWith(prefix))!;
    const g = geometryOf(c);
    const inPlane = c.inSize.reduce((a, b) => a * b, 1);
    const x = rand(c.batch * c.cIn * inPlane, 7);
    const w = rand(c.cOut * c.cIn * 9, 8);
    const dy = rand(c.batch * c.cOut * inPlane, 9);
    const runAll = (threads: number) => withBackend('wasm', () => {
      setNumThreads(threads);
      const y = new Float32Array(dy.length);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      const db = new Float32Array(c.cOut);
      kernels().convForward(x, w, rand(c.cOut, 10), g, c.cOut, c.groups, y);
      kernels().convBackwardInput(dy, w, g, c.cOut, c.groups, dx);
      kernels().convBackwardWeight(x, dy, g, c.cOut, c.groups, dw, db);
      return [y, dx, dw, db];
    });
    const one = runAll(1);
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    for (let i = 0; i < 3; i++) expect(runAll(2)).toEqual(one);
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
    else expect(wasmInfo()!.maxThreadsUsed).toBe(1);
  });

  it('splits the input gradient of several items per GEMM by input channels (Wᵀ taller than the columns), and one item per GEMM in several shares a thread: bit-identical on 1, 2 and 3 threads', async () => {
    const before = withBackend('wasm', () => getNumThreads());
    try {
      for (const c of cases.filter((k) => k.name.startsWith('split by rows') || k.name.startsWith('many items'))) {
        const g = geometryOf(c);
        const x = rand(c.batch * c.cIn * sizeOf(c.inSize), 17);
        const w = rand(c.cOut * c.cIn * 9, 18);
        const b = rand(c.cOut, 19);
        const dy = rand(c.batch * c.cOut * sizeOf(g.outSize), 20);
        const runAll = (threads: number) => withBackend('wasm', () => {
          setNumThreads(threads);
          const y = new Float32Array(dy.length);
          const dx = rand(x.length, 21);
          const dw = new Float32Array(w.length);
          kernels().convForward(x, w, b, g, c.cOut, 1, y, [-0.5, 0.5]);
          kernels().convBackwardInput(dy, w, g, c.cOut, 1, dx);
          kernels().convBackwardWeight(x, dy, g, c.cOut, 1, dw);
          return [y, dx, dw];
        });
        const one = runAll(1);
        for (const threads of [2, 3]) {
          withBackend('wasm', () => setNumThreads(threads));
          await withBackend('wasm', () => threadsReady());
          expect(runAll(threads), `${c.name}, ${threads} threads`).toEqual(one);
        }
      }
      if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
    } finally {
      withBackend('wasm', () => setNumThreads(before));
    }
  });

  // LeNet's convolutions at a training batch (four items per vector, conv-lanes.ts): 65 items
  // leave a last group of one; the forward and input gradient split groups between threads,
  // the weight gradient its units of channels × taps.
  it.each([
    ['conv1 (1→6, 5×5, pad 2)', 1, 28, 6, 2],
    ['conv2 (6→16, 5×5)', 6, 14, 16, 0],
  ] as const)('LeNet %s, 65 items: bit-identical on 1, 2 and 3 threads, and within the reference\'s tolerance', async (_, cIn, size, cOut, pad) => {
    const c: Case = { name: '', batch: 65, cIn, cOut, groups: 1, inSize: [size, size], kernel: [5, 5], stride: [1, 1], pad: [pad, pad], dilation: [1, 1] };
    const g = geometryOf(c);
    const x = rand(c.batch * cIn * size * size, 11);
    const w = rand(cOut * cIn * 25, 12);
    const b = rand(cOut, 13);
    const dy = rand(c.batch * cOut * g.outSize[0]! * g.outSize[1]!, 14);
    const runAll = (threads: number) => withBackend('wasm', () => {
      setNumThreads(threads);
      const y = new Float32Array(dy.length);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      const db = new Float32Array(cOut);
      kernels().convForward(x, w, b, g, cOut, 1, y, [0, 0.5]);
      kernels().convBackwardInput(dy, w, g, cOut, 1, dx);
      kernels().convBackwardWeight(x, dy, g, cOut, 1, dw, db);
      return [y, dx, dw, db];
    });
    const one = runAll(1);
    const [yRef, dxRef, dwRef, dbRef] = [new Float32Array(dy.length), new Float32Array(x.length), new Float32Array(w.length), new Float32Array(cOut)];
    referenceKernels.convForward(x, w, b, g, cOut, 1, yRef, [0, 0.5]);
    referenceKernels.convBackwardInput(dy, w, g, cOut, 1, dxRef);
    referenceKernels.convBackwardWeight(x, dy, g, cOut, 1, dwRef, dbRef);
    expect(worst(one[0]!, yRef), 'forward').toBeLessThan(1e-5);
    expect(worst(one[1]!, dxRef), 'input gradient').toBeLessThan(1e-5);
    // A sum over 65 × 784 products: the float32 error grows with it (float64 reference sums).
    expect(worst(one[2]!, dwRef), 'weight gradient').toBeLessThan(5e-5);
    expect(worst(one[3]!, dbRef), 'bias gradient').toBeLessThan(1e-6);
    for (const threads of [2, 3]) {
      withBackend('wasm', () => setNumThreads(threads));
      await withBackend('wasm', () => threadsReady());
      expect(runAll(threads)).toEqual(one);
    }
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(3);
  });

  it('reads and writes x, y, dy and dx in place where they are in the Wasm memory, with the bits of staged copies, on 1, 2 and 3 threads', async () => {
    if (!withBackend('wasm', () => kernels().residentArrays?.([1]) ?? null)) return; // no shared memory: nothing is ever resident
    const before = withBackend('wasm', () => getNumThreads());
    // Every path (lanes, direct, several items per GEMM, pointwise, cropped taps, 1-D, 3-D), and
    // a forward over several cache-sized chunks.
    const all = [...cases, { name: 'chunks', batch: 40, cIn: 32, cOut: 64, groups: 1, inSize: [24, 24], kernel: [5, 5], stride: [1, 1], pad: [2, 2], dilation: [1, 1] }];
    try {
      for (const threads of [1, 2, 3]) {
        withBackend('wasm', () => setNumThreads(threads));
        await withBackend('wasm', () => threadsReady());
        for (const c of all) {
          const g = geometryOf(c);
          const xn = c.batch * c.cIn * sizeOf(c.inSize);
          const yn = c.batch * c.cOut * sizeOf(g.outSize);
          const x = rand(xn, 51);
          const w = rand(c.cOut * (c.cIn / c.groups) * sizeOf(c.kernel), 52);
          const dy = rand(yn, 53);
          const dx0 = rand(xn, 54);
          const convs = (xa: Float32Array, dya: Float32Array, ya: Float32Array, dxa: Float32Array) => withBackend('wasm', () => {
            kernels().convForward(xa, w, null, g, c.cOut, c.groups, ya);
            kernels().convBackwardInput(dya, w, g, c.cOut, c.groups, dxa);
            const dw = new Float32Array(w.length);
            kernels().convBackwardWeight(xa, dya, g, c.cOut, c.groups, dw);
            return [ya, dxa, dw];
          });
          const staged = convs(x, dy, new Float32Array(yn), dx0.slice());
          const [xr, dyr, yr, dxr] = withBackend('wasm', () => kernels().residentArrays!([xn, yn, yn, xn])!) as [Float32Array, Float32Array, Float32Array, Float32Array];
          xr.set(x);
          dyr.set(dy);
          dxr.set(dx0);
          const inPlace = convs(xr, dyr, yr, dxr);
          expect(inPlace.map((a, i) => firstBitDifference(a, staged[i]!)), `${c.name}, ${threads} threads`).toEqual([-1, -1, -1]);
        }
      }
    } finally {
      withBackend('wasm', () => setNumThreads(before));
    }
  });

  it('forward writes every element of its output (what it held is never read): every path, Winograd, several chunks, with and without bias and clamp, on 1, 2 and 3 threads and the reference', async () => {
    const before = withBackend('wasm', () => getNumThreads());
    const all: Case[] = [...cases,
      { name: 'Winograd', batch: 3, cIn: 16, cOut: 16, groups: 1, inSize: [8, 8], kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1] },
      { name: 'lanes, several chunks', batch: 257, cIn: 6, cOut: 16, groups: 1, inSize: [14, 14], kernel: [5, 5], stride: [1, 1], pad: [0, 0], dilation: [1, 1] }];
    try {
      for (const threads of [1, 2, 3]) {
        withBackend('wasm', () => setNumThreads(threads));
        await withBackend('wasm', () => threadsReady());
        for (const c of all) {
          const g = geometryOf(c);
          const x = rand(c.batch * c.cIn * sizeOf(c.inSize), 61);
          const w = rand(c.cOut * (c.cIn / c.groups) * sizeOf(c.kernel), 62);
          const size = c.batch * c.cOut * sizeOf(g.outSize);
          for (const bias of [null, rand(c.cOut, 63)]) {
            for (const clamp of [null, [0, 0.5] as const]) {
              for (const backend of threads === 1 ? ['wasm', 'reference'] : ['wasm']) {
                const [zeroed, garbage] = [new Float32Array(size), new Float32Array(size).fill(Number.NaN)];
                withBackend(backend, () => kernels().convForward(x, w, bias, g, c.cOut, c.groups, zeroed, clamp));
                withBackend(backend, () => kernels().convForward(x, w, bias, g, c.cOut, c.groups, garbage, clamp));
                expect(firstBitDifference(garbage, zeroed), `${c.name}, ${backend}, ${threads} thread(s), bias ${bias !== null}, clamp ${clamp !== null}`).toBe(-1);
              }
            }
          }
        }
      }
    } finally {
      withBackend('wasm', () => setNumThreads(before));
    }
  });

  it('batch 1, pointwise: the output columns split between threads, bit-identical to 1 thread', async () => {
    const g: WindowGeometry = { batch: 1, channels: 16, inSize: [24, 23], kernel: [1, 1], stride: [1, 1], padBegin: [0, 0], padEnd: [0, 0], dilation: [1, 1], outSize: [24, 23] };
    const x = rand(16 * 24 * 23, 21);
    const w = rand(32 * 16, 22);
    const b = rand(32, 23);
    const yRef = new Float32Array(32 * 24 * 23);
    referenceKernels.convForward(x, w, b, g, 32, 1, yRef);
    const run = (threads: number, clamp: readonly [number, number] | null = null) => withBackend('wasm', () => {
      setNumThreads(threads);
      const y = new Float32Array(yRef.length).fill(Number.NaN);
      kernels().convForward(x, w, b, g, 32, 1, y, clamp);
      return y;
    });
    const one = run(1);
    expect(worst(one, yRef)).toBeLessThan(1e-5);
    const clamped = run(1, [0, 0.5]);
    expect(clamped).toEqual(one.map((v) => Math.min(Math.max(v, 0), 0.5)));
    withBackend('wasm', () => setNumThreads(2));
    await withBackend('wasm', () => threadsReady());
    expect(run(2)).toEqual(one);
    expect(run(2, [0, 0.5])).toEqual(clamped);
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
  });
});

describe('conv2d outputClamp (a fused ReLU/ReLU6 for inference)', () => {
  const x = tensor(rand(2 * 3 * 9 * 9, 31), { shape: [2, 3, 9, 9] });
  const w = tensor(rand(6 * 3 * 3 * 3, 32), { shape: [6, 3, 3, 3] });
  const b = tensor(rand(6, 33), { shape: [6] });

  it('equals the convolution followed by clamp, on every backend and for depthwise and pointwise convolutions', () => {
    const dw = tensor(rand(3 * 9, 34), { shape: [3, 1, 3, 3] });
    const pw = tensor(rand(6 * 3, 35), { shape: [6, 3, 1, 1] });
    for (const backend of ['wasm', 'reference']) {
      withBackend(backend, () => noGrad(() => {
        const cases: [Tensor, ConvOptions][] = [[w, { padding: 1, stride: 2 }], [dw, { padding: 1, groups: 3 }], [pw, {}]];
        for (const [weight, options] of cases) {
          const bias = weight.shape[0] === 6 ? b : null;
          const want = conv2d(x, weight, bias, options).clamp(0, 0.6);
          const got = conv2d(x, weight, bias, { ...options, outputClamp: [0, 0.6] });
          expect(Array.from(got.dataSync()), `${backend} ${JSON.stringify(options)}`).toEqual(Array.from(want.dataSync()));
        }
      }));
    }
  });

  it('is refused where a gradient would be recorded, inside a trace, and with bad bounds', () => {
    const wg = w.detach().requiresGrad_();
    expect(() => conv2d(x, wg, b, { outputClamp: [0, 6] })).toThrow(/conv2d: outputClamp is an inference fusion/);
    expect(noGrad(() => conv2d(x, wg, b, { outputClamp: [0, 6] })).shape).toEqual([2, 6, 7, 7]);
    expect(() => traceOps({ record: () => {} }, () => noGrad(() => conv2d(x, w, b, { outputClamp: [0, 6] })))).toThrow(/outputClamp is an inference fusion/);
    expect(() => noGrad(() => conv2d(x, w, b, { outputClamp: [6, 0] as unknown as [number, number] }))).toThrow(/conv2d: option 'outputClamp'.*min <= max/);
  });
});

describe('wasm convolution staging', () => {
  it('forward over several cache-sized chunks, and weights and bias read in place from the Wasm memory, give the same bits', () => {
    // 20 items of 4×96×96 → 8×96×96: ~440 KB of operands per item, so the forward runs in chunks.
    const g: WindowGeometry = { batch: 20, channels: 4, inSize: [96, 96], kernel: [3, 3], stride: [1, 1], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], outSize: [96, 96] };
    const x = rand(20 * 4 * 96 * 96, 41);
    const w = rand(8 * 4 * 9, 42);
    const b = rand(8, 43);
    const dy = rand(20 * 8 * 96 * 96, 44);
    withBackend('wasm', () => setNumThreads(1));
    const yRef = new Float32Array(dy.length);
    referenceKernels.convForward(x, w, b, g, 8, 1, yRef);
    const run = (wt: Float32Array, bt: Float32Array) => withBackend('wasm', () => {
      const y = new Float32Array(dy.length).fill(Number.NaN);
      kernels().convForward(x, wt, bt, g, 8, 1, y);
      const dx = new Float32Array(x.length);
      kernels().convBackwardInput(dy, wt, g, 8, 1, dx);
      return [y, dx];
    });
    const [y, dx] = run(w, b);
    expect(worst(y!, yRef)).toBeLessThan(1e-5);
    const resident = withBackend('wasm', () => kernels().residentArrays?.([w.length, b.length]) ?? null);
    if (!resident) return; // no shared Wasm memory in this build: nothing resident to read in place
    resident[0]!.set(w);
    resident[1]!.set(b);
    const [yIn, dxIn] = run(resident[0]!, resident[1]!);
    expect(yIn).toEqual(y);
    expect(dxIn).toEqual(dx);
  });
});

describe('conv2d weight gradient into a resident gradient slot', () => {
  it('is written over the slot (holding the last step\'s gradient) with the bits of a plain weight, step after step', () => {
    const x = tensor(rand(3 * 4 * 10 * 10, 51), { shape: [3, 4, 10, 10] });
    const make = () => tensor(rand(6 * 4 * 9, 52), { shape: [6, 4, 3, 3], requiresGrad: true });
    const plain = make();
    const resident = make();
    const arrays = withBackend('wasm', () => kernels().residentArrays?.([plain.numel()]) ?? null);
    const slots = withBackend('wasm', () => kernels().residentArrays?.([plain.numel()]) ?? null);
    if (!arrays || !slots) return; // no shared Wasm memory in this build
    resident._adoptResident(arrays[0]!, slots[0]!);
    withBackend('wasm', () => {
      for (let step = 0; step < 2; step++) {
        for (const w of [plain, resident]) {
          w.grad = null;
          conv2d(x, w, null, { padding: 1 }).square().sum().backward();
        }
        expect(resident.grad!.dataSync()).toBe(slots[0]); // no copy: the kernel wrote the slot
        expect(Array.from(resident.grad!.dataSync())).toEqual(Array.from(plain.grad!.dataSync()));
      }
    });
  });
});

describe('cropDeadTaps', () => {
  const geo = (inSize: number[], kernel: number[], stride: number[], pad: number[], dilation: number[], outSize: number[]): WindowGeometry =>
    ({ batch: 1, channels: 1, inSize, kernel, stride, padBegin: pad, padEnd: pad, dilation, outSize });

  it('keeps the taps that read the input, with the padding they still need', () => {
    const one = cropDeadTaps(geo([1, 1], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]))!;
    expect([one.first, one.end, one.geometry.kernel, one.geometry.padBegin]).toEqual([[1, 1], [2, 2], [1, 1], [0, 0]]);
    const strided = cropDeadTaps(geo([2, 2], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]))!;
    expect([strided.first, strided.end, strided.geometry.kernel, strided.geometry.padBegin]).toEqual([[1, 1], [3, 3], [2, 2], [0, 0]]);
    const wide = cropDeadTaps(geo([2], [5], [1], [2], [1], [2]))!;
    expect([wide.first, wide.end, wide.geometry.padBegin]).toEqual([[1], [4], [1]]);
  });

  it('gathers and scatters back the cropped taps of every weight row', () => {
    const crop = cropDeadTaps(geo([2, 2], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]))!;
    const w = Float32Array.from({ length: 2 * 9 }, (_, i) => i);
    // Taps (1..2) × (1..2) of each 3×3 row: offsets 4, 5, 7, 8.
    const part = cropWeights(crop, [3, 3], 2, w);
    expect(Array.from(part)).toEqual([4, 5, 7, 8, 13, 14, 16, 17]);
    const back = new Float32Array(18).fill(-1);
    uncropWeights(crop, [3, 3], 2, part, back);
    expect(Array.from(back)).toEqual(Array.from(w, (v, i) => ([4, 5, 7, 8].includes(i % 9) ? v : -1)));
  });

  it('crops resident weights in the Wasm memory, on 1, 2 and 3 threads, with the bits of the JavaScript copy', async () => {
    const resident = withBackend('wasm', () => kernels().residentArrays?.([1]) ?? null);
    if (!resident) return; // no shared Wasm memory in this build: weights are never resident
    const before = withBackend('wasm', () => getNumThreads());
    // firstBitDifference: the first element whose bits differ (-1: none), not a diff of 100,000 numbers.
    // ResNet-18 layer4 on 32×32 images (one live tap of 9), and 4 of 9 taps over a 2×2 map;
    // enough rows for several shares.
    const cases: Array<[WindowGeometry, number]> = [
      [{ ...geo([1, 1], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]), batch: 3, channels: 192 }, 160],
      [{ ...geo([2, 2], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]), batch: 2, channels: 96 }, 200],
    ];
    try {
      for (const [g, cOut] of cases) {
        const crop = cropDeadTaps(g)!;
        const rows = cOut * g.channels;
        const w = rand(rows * 9, 41);
        const x = rand(g.batch * g.channels * sizeOf(g.inSize), 42);
        const dy = rand(g.batch * cOut * sizeOf(g.outSize), 43);
        const dw0 = rand(rows * 9, 44);
        // The JavaScript copy: from weights outside the Wasm memory.
        const partRef = cropWeights(crop, g.kernel, rows, w);
        const backRef = dw0.slice();
        uncropWeights(crop, g.kernel, rows, partRef.map((v) => v * 3), backRef);
        // A weight gradient's scatter: the dropped taps become zero, the live ones the part's.
        const zeroedRef = dw0.slice();
        uncropWeights(crop, g.kernel, rows, partRef.map((v) => v * 3), zeroedRef, true);
        const live = new Float32Array(rows * 9).fill(NaN);
        uncropWeights(crop, g.kernel, rows, new Float32Array(partRef.length), live);
        expect(firstBitDifference(zeroedRef, backRef.map((v, i) => (Number.isNaN(live[i]) ? 0 : v)))).toBe(-1);
        const convs = (wt: Float32Array, dwt: Float32Array) => {
          const y = new Float32Array(dy.length);
          kernels().convForward(x, wt, null, g, cOut, 1, y);
          const dx = new Float32Array(x.length);
          kernels().convBackwardInput(dy, wt, g, cOut, 1, dx);
          kernels().convBackwardWeight(x, dy, g, cOut, 1, dwt);
          return [y, dx, dwt];
        };
        const outRef = withBackend('wasm', () => convs(w, dw0.slice()));
        for (const threads of [1, 2, 3]) {
          withBackend('wasm', () => setNumThreads(threads));
          await withBackend('wasm', () => threadsReady());
          const [wr, dwr] = withBackend('wasm', () => kernels().residentArrays!([rows * 9, rows * 9])!);
          wr!.set(w);
          dwr!.set(dw0);
          const part = withBackend('wasm', () => cropWeights(crop, g.kernel, rows, wr!));
          // Made in the Wasm memory (the JavaScript copy is an ordinary array).
          expect(part.buffer).toBeInstanceOf(SharedArrayBuffer);
          expect(firstBitDifference(part, partRef), `crop, ${threads} threads`).toBe(-1);
          part.set(partRef.map((v) => v * 3));
          withBackend('wasm', () => uncropWeights(crop, g.kernel, rows, part, dwr!));
          expect(firstBitDifference(dwr!, backRef), `uncrop, ${threads} threads`).toBe(-1);
          dwr!.set(dw0);
          withBackend('wasm', () => uncropWeights(crop, g.kernel, rows, part, dwr!, true));
          expect(firstBitDifference(dwr!, zeroedRef), `uncrop zeroing, ${threads} threads`).toBe(-1);
          // The convolutions read the resident copy in place and accumulate dW in it.
          dwr!.set(dw0);
          const out = withBackend('wasm', () => convs(wr!, dwr!));
          out.forEach((a, i) => expect(firstBitDifference(a, outRef[i]!), `conv output ${i}, ${threads} threads`).toBe(-1));
        }
      }
    } finally {
      withBackend('wasm', () => setNumThreads(before));
    }
  });

  it('leaves convolutions alone where every tap reads the input, or cropping needs negative padding', () => {
    expect(cropDeadTaps(geo([4, 4], [3, 3], [1, 1], [1, 1], [1, 1], [4, 4]))).toBeNull();
    expect(cropDeadTaps(geo([2, 2], [3, 3], [1, 1], [1, 1], [1, 1], [2, 2]))).toBeNull();
    // Dilation 2 over 3 samples with padding 1, one output: only tap 1 reads the input (sample 1),
    // and starting there would need padding 1 − 2 < 0.
    expect(cropDeadTaps(geo([3], [3], [1], [1], [2], [1]))).toBeNull();
    // No tap reads the input at all (the output is the bias): left to the full kernel.
    expect(cropDeadTaps(geo([1], [2], [10], [3], [1], [1]))).toBeNull();
  });
});
