/**
 * The convolution weight gradient overwrites its buffer (a parameter's resident gradient slot
 * still holds the previous step's gradient, and nothing zeroes it): every kernel path must write
 * every element without reading it, and autograd's accumulation rules must hold around it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, kernels, setNumThreads, threadsReady, withBackend } from '../../backend.js';
import { conv2d, tensor, type ConvOptions, type Tensor } from '../../index.js';
import { rand, worst } from './test-utils/data.js';

interface Shape {
  name: string;
  x: number[];
  w: number[];
  options: ConvOptions;
}

// One shape per kernel path that writes a weight gradient (see conv.ts's run and runCropped),
// each with enough work to be split between threads.
const shapes: Shape[] = [
  { name: 'im2col + GEMM (one item per GEMM)', x: [4, 8, 24, 24], w: [24, 8, 3, 3], options: { stride: 2, padding: 1 } },
  { name: 'im2col + GEMM, several items per GEMM', x: [16, 16, 6, 6], w: [32, 16, 3, 3], options: { stride: 2, padding: 1 } },
  { name: 'im2col + GEMM with groups', x: [4, 12, 16, 16], w: [24, 4, 3, 3], options: { padding: 1, groups: 3 } },
  { name: 'pointwise', x: [4, 32, 12, 12], w: [48, 32, 1, 1], options: {} },
  { name: 'direct (few output channels)', x: [2, 24, 16, 16], w: [6, 24, 3, 3], options: { padding: 1 } },
  { name: 'lanes (few channels, four items per vector)', x: [12, 4, 12, 12], w: [10, 4, 3, 3], options: { padding: 1 } },
  { name: 'Winograd', x: [3, 16, 8, 8], w: [16, 16, 3, 3], options: { padding: 1 } },
  { name: 'taps cropped (3×3 over 1×1 maps)', x: [64, 128, 1, 1], w: [128, 128, 3, 3], options: { padding: 1 } },
  { name: 'depthwise', x: [8, 32, 16, 16], w: [32, 1, 3, 3], options: { padding: 1, groups: 32 } },
];

/** A weight whose values and gradient slot live in the Wasm memory (as an optimizer leaves them), or null without shared memory. */
function residentWeight(values: Float32Array, shape: number[]): { w: Tensor; slot: Float32Array } | null {
  const w = tensor(values, { shape, requiresGrad: true });
  const arrays = kernels().residentArrays?.([values.length, values.length]) ?? null;
  if (!arrays) return null;
  w._adoptResident(arrays[0]!, arrays[1]!);
  return { w, slot: arrays[1]! };
}

describe('conv2d weight gradient written over a resident gradient slot', () => {
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  for (const s of shapes) {
    it(`${s.name}: every element written (slot full of NaN beforehand), the reference's values, the same bits on 1, 2 and 3 threads`, async () => {
      const x = tensor(rand(s.x.reduce((a, b) => a * b, 1), 61), { shape: s.x });
      const values = rand(s.w.reduce((a, b) => a * b, 1), 62);
      const loss = (w: Tensor) => conv2d(x, w, null, s.options).square().sum();
      const ref = tensor(values, { shape: s.w, requiresGrad: true });
      withBackend('reference', () => loss(ref).backward());
      const expected = ref.grad!.dataSync() as Float32Array;
      let first: Float32Array | null = null;
      for (const threads of [1, 2, 3]) {
        withBackend('wasm', () => setNumThreads(threads));
        await withBackend('wasm', () => threadsReady());
        const got = withBackend('wasm', () => {
          const r = residentWeight(values, s.w);
          if (!r) return null; // no shared Wasm memory in this build: no slot to reuse
          const out: Float32Array[] = [];
          for (let step = 0; step < 2; step++) {
            r.w.grad = null;
            r.slot.fill(Number.NaN); // whatever the slot held must never be read
            loss(r.w).backward();
            expect(r.w.grad!.dataSync()).toBe(r.slot); // written in place, no copy
            out.push(r.slot.slice());
          }
          return out;
        });
        if (!got) return;
        expect(worst(got[0]!, expected), `${threads} thread(s)`).toBeLessThan(1e-4);
        expect(got[1]).toEqual(got[0]); // the second step sees the first step's gradient in the slot
        first ??= got[0]!;
        expect(got[0]).toEqual(first);
      }
    });
  }

  it('keeps autograd\'s accumulation: a weight used twice, two backward calls without clearing, retainGraph', () => {
    withBackend('wasm', () => {
      setNumThreads(1);
      const s = shapes.find((k) => k.name === 'Winograd')!;
      const x1 = tensor(rand(s.x.reduce((a, b) => a * b, 1), 63), { shape: s.x });
      const x2 = tensor(rand(s.x.reduce((a, b) => a * b, 1), 64), { shape: s.x });
      const values = rand(s.w.reduce((a, b) => a * b, 1), 65);
      const r = residentWeight(values, s.w);
      if (!r) return; // no shared Wasm memory in this build
      const plain = tensor(values, { shape: s.w, requiresGrad: true });
      const one = (w: Tensor, x: Tensor) => conv2d(x, w, null, s.options).square().sum();
      // The single contributions, each alone on a plain weight.
      const alone = [x1, x2].map((x) => {
        plain.grad = null;
        one(plain, x).backward();
        return plain.grad!;
      });
      const sum = alone[0]!.add(alone[1]!).dataSync();
      const twice = alone[0]!.add(alone[0]!).dataSync();

      // Used twice in one graph: the first contribution takes the slot, the second is added.
      r.w.grad = null;
      r.slot.fill(Number.NaN);
      one(r.w, x1).add(one(r.w, x2)).backward();
      expect(r.w.grad!.dataSync()).toEqual(sum);

      // Two backward calls without clearing the gradient: the second adds to the first.
      r.w.grad = null;
      r.slot.fill(Number.NaN);
      one(r.w, x1).backward();
      one(r.w, x2).backward();
      expect(r.w.grad!.dataSync()).toEqual(sum);

      // The same graph run backward twice (retainGraph): twice the gradient.
      r.w.grad = null;
      r.slot.fill(Number.NaN);
      const y = one(r.w, x1);
      y.backward(undefined, { retainGraph: true });
      expect(r.w.grad!.dataSync()).toEqual(alone[0]!.dataSync());
      y.backward();
      expect(r.w.grad!.dataSync()).toEqual(twice);
    });
  });
});
