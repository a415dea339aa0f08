import { describe, expect, it } from 'vitest';
import { kernels, withBackend } from '../../backend.js';
import { stridesOf } from '../../shape.js';
import { firstBitDifference, rand } from './test-utils/data.js';
import { expectSameBitsOnThreads } from './test-utils/threads.js';

interface Case { name: string; xLen: number; offset: number; shape: number[]; strides: number[] }

/** Reads of the kinds permute, expand, slice and flip make (plan.ts collapses them to ≤ 4 dims). */
function cases(): Case[] {
  const perm = (shape: number[], p: number[]): Case => {
    const s = stridesOf(shape);
    return { name: `permute ${shape} by ${p}`, xLen: shape.reduce((a, b) => a * b, 1), offset: 0, shape: p.map((i) => shape[i]!), strides: p.map((i) => s[i]!) };
  };
  return [
    // Attention's head split [B, T, H, D] → [B, H, T, D], and its merge.
    perm([4, 16, 4, 32], [0, 2, 1, 3]),
    perm([4, 4, 16, 32], [0, 2, 1, 3]),
    // Large enough to split across threads (2^17 elements).
    perm([16, 64, 4, 32], [0, 2, 1, 3]),
    // A transpose (inner stride ≠ 1) and a 3-cycle with odd sizes.
    perm([67, 129], [1, 0]),
    perm([5, 7, 131], [2, 0, 1]),
    // expand [3, 1, 37] → [3, 50, 37] (stride 0), a sliced view with step 2 and an offset, flip.
    { name: 'expand', xLen: 3 * 37, offset: 0, shape: [3, 50, 37], strides: [37, 0, 1] },
    { name: 'slice', xLen: 9 * 40 * 30, offset: 40 * 30 + 5, shape: [4, 40, 12], strides: [2 * 40 * 30, 30, 2] },
    { name: 'flip', xLen: 8 * 600, offset: 8 * 600 - 1, shape: [8, 600], strides: [-600, -1] },
  ];
}

/** Every case on the active backend: both arrays in the JavaScript heap, the source in Wasm memory, the output there, both. */
function copies(): Float32Array[] {
  const k = kernels();
  const out: Float32Array[] = [];
  for (const c of cases()) {
    const x = rand(c.xLen, c.xLen % 97);
    const n = c.shape.reduce((a, b) => a * b, 1);
    const want = new Float32Array(n);
    k.stridedCopy(x, c.offset, c.shape, c.strides, want);
    out.push(want);
    if (!k.takeActivation) continue;
    const rx = k.takeActivation(c.xLen, false)!;
    const ro = k.takeActivation(n, false)!;
    rx.set(x);
    for (const [src, dst] of [[rx, new Float32Array(n)], [x, ro], [rx, ro]] as const) {
      dst.fill(NaN);
      k.stridedCopy(src, c.offset, c.shape, c.strides, dst);
      expect(firstBitDifference(dst, want), `${c.name}, ${src === rx ? 'source' : ''} ${dst === ro ? 'output' : ''} in Wasm memory`).toBe(-1);
    }
    k.releaseActivation!(rx);
    k.releaseActivation!(ro);
  }
  return out;
}

describe('wasm strided copies (permute, expand, slice, flip)', () => {
  it('equal the reference bit for bit on 1, 2 and 3 threads, with either side in Wasm memory', async () => {
    await expectSameBitsOnThreads(copies, withBackend('reference', copies));
  });
});
