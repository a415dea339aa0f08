import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, kernels, setNumThreads, threadsReady, withBackend } from '../../backend.js';
import { linear, tensor, wasmInfo } from '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { rand } from './test-utils/data.js';

/** Values with ±0, ±Infinity, NaN, denormals and a wide range, so the order of the sum shows. */
function data(n: number, seed: number): Float32Array {
  const x = rand(n, seed);
  for (let i = 0; i < n; i++) x[i] = x[i]! * 10 ** ((i * 7) % 9 - 4);
  const specials = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45];
  for (let i = 0; i < n; i += 97) x[i] = specials[(i / 97) % specials.length]!;
  return x;
}

/**
 * The bits of each value, every NaN as one: ∞ − ∞ gives a NaN whose sign neither JavaScript nor
 * Wasm fixes (V8's own loops give both signs), so only NaN-ness is compared.
 */
const bits = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length), (v, i) => (a[i] !== a[i] ? 0x7fc00000 : v));

describe('wasm column sums (sum over leading axes, a bias gradient)', () => {
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  // Column counts with and without whole 8-column blocks; one shape reduces two leading axes.
  const cases: [number[], number[]][] = [
    [[64, 256], [0]], [[64, 10], [0]] , [[1000, 13], [0]], [[7, 9, 301], [0, 1]], [[4096, 8], [0]], [[513, 130], [0]],
  ];
  for (const threads of [1, 2]) {
    it(`matches the reference bit for bit on ${threads} thread(s)`, async () => {
      withBackend('wasm', () => setNumThreads(threads));
      await withBackend('wasm', () => threadsReady());
      cases.forEach(([shape, axes], i) => {
        const x = data(shape.reduce((a, b) => a * b, 1), i + 1);
        const len = shape.slice(axes.length).reduce((a, b) => a * b, 1);
        const ref = new Float32Array(len);
        referenceKernels.reduce('sum', x, shape, axes, ref);
        const out = new Float32Array(len);
        withBackend('wasm', () => kernels().reduce('sum', x, shape, axes, out));
        expect(bits(out), `shape [${shape}] axes [${axes}]`).toEqual(bits(ref));
      });
      if (threads === 2 && wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(2);
    });
  }

  it("linear's bias gradient is the reference's on 1 and 2 threads", async () => {
    const grads = (threads: number, backend: string): Float32Array => withBackend(backend, () => {
      setNumThreads(threads);
      const x = tensor(rand(128 * 40, 5), { shape: [128, 40] });
      const w = tensor(rand(96 * 40, 6), { shape: [96, 40] });
      const b = tensor(rand(96, 7), { shape: [96], requiresGrad: true });
      linear(x, w, b).mul(tensor(rand(128 * 96, 8), { shape: [128, 96] })).sum().backward();
      return b.grad!.dataSync() as Float32Array;
    });
    const ref = grads(1, 'reference');
    expect(bits(grads(1, 'wasm'))).toEqual(bits(ref));
    await withBackend('wasm', () => { setNumThreads(2); return threadsReady(); });
    expect(bits(grads(2, 'wasm'))).toEqual(bits(ref));
  });
});
