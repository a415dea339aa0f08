/**
 * Batch normalisation's per-channel kernels on Wasm (assembly/channel.ts): float32 data is
 * staged into the Wasm memory with the float64 coefficients, the pass runs in f64x2 SIMD, and
 * the result is copied back. channelAffine equals the reference bit for bit; the two sums take
 * their own fixed order (even and odd positions in two lanes). float64 data, and empty
 * channels (NaN statistics), go to the reference.
 *
 * Large passes are split by channel across the worker pool: a channel's result is computed the
 * same way on whichever thread takes it, so it does not depend on the thread count.
 */
import type { Kernels } from '../../backend.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, type WasmRuntime } from './runtime.js';

type ChannelKernels = Pick<Kernels, 'channelMoments' | 'channelAffine' | 'channelGradSums'>;
type Shape = readonly [number, number, number];

/**
 * Elements a share of a threaded pass gets at least (the passes are memory-bound: a share must
 * outweigh waking a thread), and shares per thread (any thread may take any share, pool.ts).
 */
const WORK_PER_SHARE = 1 << 14;
const SHARES_PER_THREAD = 4;

const enum Kind {
  Moments = 0,
  Affine = 1,
  GradSums = 2,
}

export function makeChannel(rt: WasmRuntime, pool: WorkerPool, threads: () => number, fallback: ChannelKernels): ChannelKernels {
  /** Runs `kind` over [n, c, s] with the given pointers (assembly/channel.ts, channelTask). */
  const run = (kind: Kind, [n, c, s]: Shape, ptrs: number[]): void => {
    const t = threads();
    const shares = t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, c, Math.floor((n * c * s) / WORK_PER_SHARE)));
    rt.i32.set([kind, n, c, s, ...ptrs], DESC >> 2);
    pool.run('channelTask', DESC, shares, t);
  };
  /**
   * Byte addresses of float32 inputs `f32` (read in place where already in the Wasm memory,
   * else staged there) and of float64 arrays of `c` values (the given ones copied in; null: an
   * output), laid out from the operand base; `outputs` more float32 areas of those sizes.
   */
  const stage = (f32: Float32Array[], f64: (Float64Array | null)[], c: number, outputs: number[] = []): number[] => {
    const ptrs: number[] = [];
    let at = rt.operandBase;
    const take = (bytes: number) => {
      ptrs.push(at);
      at = align(at + bytes, 64);
    };
    const resident = f32.map((a) => rt.residentPtr(a));
    f32.forEach((a, i) => {
      if (resident[i]! >= 0) ptrs.push(resident[i]!);
      else take(a.length * 4);
    });
    for (let i = 0; i < f64.length; i++) take(c * 8);
    for (const n of outputs) take(n * 4);
    rt.ensure(at);
    f32.forEach((a, i) => {
      if (resident[i]! < 0) rt.f32.set(a, ptrs[i]! >> 2);
    });
    f64.forEach((a, i) => {
      if (a) new Float64Array(rt.f32.buffer, ptrs[f32.length + i]!, c).set(a);
    });
    return ptrs;
  };
  const f64Out = (ptr: number, c: number, dst: Float64Array) => dst.set(new Float64Array(rt.f32.buffer, ptr, c));
  const isF32 = (...arrays: (Float32Array | Float64Array | null | undefined)[]) => arrays.every((a) => a == null || a instanceof Float32Array);
  return {
    channelMoments(x, shape: Shape, mean, variance) {
      const [n, c, s] = shape;
      if (!isF32(x) || n * s === 0 || c === 0) return fallback.channelMoments(x, shape, mean, variance);
      const [xp, mp, vp] = stage([x as Float32Array], [null, null], c) as [number, number, number];
      run(Kind.Moments, shape, [xp, mp, vp]);
      f64Out(mp, c, mean);
      f64Out(vp, c, variance);
    },
    channelAffine(x, shape: Shape, a, b, out, z = null, e = null) {
      const [n, c, s] = shape;
      if (!isF32(x, out, z) || n * c * s === 0 || (z !== null) !== (e !== null)) return fallback.channelAffine(x, shape, a, b, out, z, e);
      const size = n * c * s;
      // A resident out is written in place. Otherwise the result goes to a staging area and is
      // copied out: over the staged x when x was staged (still in cache), never over a resident x.
      const outRes = rt.residentPtr(out as Float32Array);
      const needArea = outRes < 0 && rt.residentPtr(x as Float32Array) >= 0;
      const zs = z && e ? [z as Float32Array] : [];
      const p = stage([x as Float32Array, ...zs], z && e ? [a, b, e] : [a, b], c, needArea ? [size] : []);
      // [x, (z), a, b, (e), (area)]
      const xp = p[0]!;
      const [zp, ap, bp, ep] = z && e ? [p[1]!, p[2]!, p[3]!, p[4]!] : [0, p[1]!, p[2]!, 0];
      const op = outRes >= 0 ? outRes : needArea ? p[p.length - 1]! : xp;
      run(Kind.Affine, shape, [xp, ap, bp, op, zp, ep]);
      if (outRes < 0) rt.copyOut(op, size, out as Float32Array);
    },
    channelGradSums(dy, x, shape: Shape, center, sums, dots) {
      const [n, c, s] = shape;
      if (!isF32(dy, x) || n * c * s === 0) return fallback.channelGradSums(dy, x, shape, center, sums, dots);
      const [dp, xp, cp, sp, tp] = stage([dy as Float32Array, x as Float32Array], [center, null, null], c) as number[];
      run(Kind.GradSums, shape, [dp!, xp!, cp!, sp!, tp!]);
      f64Out(sp!, c, sums);
      f64Out(tp!, c, dots);
    },
  };
}
