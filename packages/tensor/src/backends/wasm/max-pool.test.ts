import { describe, expect, it } from 'vitest';
import { kernels, withBackend, type WindowGeometry } from '../../backend.js';
import '../../index.js';
import { referenceKernels } from '../reference/index.js';

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

describe('wasm 2×2 max pooling against the reference', () => {
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
    });
  }
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
