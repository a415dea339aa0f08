import { describe, expect, it } from 'vitest';
import { kernels, withBackend, type SoftmaxArgs } from '../../backend.js';
import { referenceKernels } from '../reference/index.js';
import { loadRuntime } from './runtime.js';
import { wasmExpF32 } from './softmax.js';
import { firstBitDifference, rand } from './test-utils/data.js';
import { expectSameBitsOnThreads } from './test-utils/threads.js';

const bits = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));

/** Distance in units in the last place between two finite float32 values of the same sign. */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0]! - i[1]!);
}

/** rows × n scores: random in [-scale, scale], with some −∞ (masked) entries. */
function scores(rows: number, n: number, seed: number, scale = 8): Float32Array {
  const x = rand(rows * n, seed);
  for (let i = 0; i < x.length; i++) x[i]! *= scale;
  for (let i = 0; i < x.length; i += 7) x[i] = -Infinity;
  return x;
}

function run(backend: string, a: Omit<SoftmaxArgs, 'out'>): Float32Array {
  const out = new Float32Array(a.x.length);
  withBackend(backend, () => kernels().softmax({ ...a, out }));
  return out;
}

function runBackward(backend: string, y: Float32Array, dy: Float32Array, outer: number, n: number, log: boolean): Float32Array {
  const dx = new Float32Array(y.length);
  withBackend(backend, () => kernels().softmaxBackward({ y, dy, dx, outer, n, inner: 1, log }));
  return dx;
}

function maxRelErr(a: Float32Array, b: Float32Array, floor: number): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i]!)) { expect(a[i]).toBeNaN(); continue; }
    if (a[i] === b[i]) continue; // also ±Infinity (log-softmax of a masked entry)
    e = Math.max(e, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor));
  }
  return e;
}

describe('wasm vector exp', () => {
  it('is within 1 ulp of Math.exp rounded to float32 from −104 to 89 (subnormals within 2^−149), with exact specials', () => {
    const rt = loadRuntime()!;
    const n = 200_003;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -104 + (193 * i) / (n - 1);
    const y = wasmExpF32(rt, x);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const want = Math.fround(Math.exp(x[i]!));
      if (want === Infinity) { expect(y[i]).toBe(Infinity); continue; }
      if (want < 1.1754943508222875e-38) {
        expect(Math.abs(y[i]! - want)).toBeLessThanOrEqual(1.401298464324817e-45); // subnormal: one step of 2^−149
        continue;
      }
      worst = Math.max(worst, ulps(y[i]!, want));
    }
    expect(worst).toBeLessThanOrEqual(1);
    const specials = new Float32Array([0, -0, Infinity, -Infinity, NaN, 88.72283, 89, -103.97, -104, -1e30, 1e30, 1e-30]);
    const s = wasmExpF32(rt, specials);
    expect(Array.from(s.subarray(0, 4))).toEqual([1, 1, Infinity, 0]);
    expect(s[4]).toBeNaN();
    expect(ulps(s[5]!, Math.fround(Math.exp(specials[5]!)))).toBeLessThanOrEqual(1);
    expect(s[6]).toBe(Infinity);
    expect(s[8]).toBe(0);
    expect(s[9]).toBe(0);
    expect(s[10]).toBe(Infinity);
    expect(s[11]).toBe(1);
  });
});

describe('wasm fused softmax / logSoftmax over the last axis', () => {
  for (const n of [64, 7, 1, 130]) {
    it(`forward and backward match the reference to float32 rounding (n = ${n}, masked entries)`, () => {
      const outer = 37;
      const x = scores(outer, n, n + 1);
      for (const log of [false, true]) {
        const want = run('reference', { x, outer, n, inner: 1, log });
        const got = run('wasm', { x, outer, n, inner: 1, log });
        expect(maxRelErr(got, want, log ? 1 : 1e-30)).toBeLessThan(log ? 2e-6 : 4e-6);
        const dy = rand(outer * n, 99 + n);
        const dWant = runBackward('reference', want, dy, outer, n, log);
        const dGot = runBackward('wasm', got, dy, outer, n, log);
        // dx = y·(dy − Σ dy·y) cancels: compare against the gradient's scale.
        expect(maxRelErr(dGot, dWant, Math.max(...dWant.map(Math.abs)))).toBeLessThan(2e-6);
      }
    });
  }
  it('a row with every key masked gives NaN as in the reference; huge logits stay finite', () => {
    const x = new Float32Array([-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, 1e30, 1e30, -1e30, 0, 0, 0, -Infinity, 0]);
    const ref = run('reference', { x, outer: 2, n: 8, inner: 1, log: false });
    const got = run('wasm', { x, outer: 2, n: 8, inner: 1, log: false });
    for (let i = 0; i < 8; i++) expect(got[i]).toBeNaN();
    expect(Array.from(got.subarray(8))).toEqual(Array.from(ref.subarray(8)));
    const big = new Float32Array([1e30, 1e30, -1e30, 5]);
    expect(Array.from(run('wasm', { x: big, outer: 1, n: 4, inner: 1, log: false }))).toEqual([0.5, 0.5, 0, 0]);
    const lb = run('wasm', { x: big, outer: 1, n: 4, inner: 1, log: true });
    expect(lb[0]).toBeCloseTo(-Math.LN2, 6);
  });
  it('gives the same bits on 1, 2 and 3 threads (rows split across the pool), staged or in place', async () => {
    // A language model's logits (split in shares) and an odd row count over uneven shares.
    const shapes: [number, number][] = [[2048, 64], [301, 37]];
    const passes = (): Float32Array[] => withBackend('wasm', () => {
      const k = kernels();
      const all: Float32Array[] = [];
      for (const [outer, n] of shapes) {
        const x = scores(outer, n, outer + n);
        const dy = rand(outer * n, 6);
        for (const log of [false, true]) {
          const y = run('wasm', { x, outer, n, inner: 1, log });
          const dx = runBackward('wasm', y, dy, outer, n, log);
          all.push(y, dx);
          // The same pass on arrays that live in the Wasm memory (activation blocks), in place —
          // where the build has them (not without shared memory).
          if (!k.takeActivation) continue;
          const [rx, ry, rdy, rdx] = [0, 1, 2, 3].map(() => k.takeActivation!(outer * n, false)!);
          rx!.set(x);
          rdy!.set(dy);
          k.softmax({ x: rx!, out: ry!, outer, n, inner: 1, log });
          k.softmaxBackward({ y: ry!, dy: rdy!, dx: rdx!, outer, n, inner: 1, log });
          expect(firstBitDifference(ry!, y)).toBe(-1);
          expect(firstBitDifference(rdx!, dx)).toBe(-1);
          for (const r of [rx, ry, rdy, rdx]) k.releaseActivation!(r!);
        }
      }
      return all;
    });
    await expectSameBitsOnThreads(passes);
  });
  it('other axes and float64 take the reference kernels (identical results)', () => {
    const x = scores(6, 10, 8);
    const inner = { x, outer: 2, n: 3, inner: 10, log: false };
    expect(bits(run('wasm', inner))).toEqual(bits(run('reference', inner)));
    const xd = Float64Array.from(x);
    const o1 = new Float64Array(60), o2 = new Float64Array(60);
    referenceKernels.softmax({ x: xd, out: o1, outer: 6, n: 10, inner: 1, log: true });
    withBackend('wasm', () => kernels().softmax({ x: xd, out: o2, outer: 6, n: 10, inner: 1, log: true }));
    expect(Array.from(o2)).toEqual(Array.from(o1));
  });
});
