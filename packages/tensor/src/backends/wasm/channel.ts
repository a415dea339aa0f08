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
   * Lays out `f32` float32 arrays and `f64` float64 arrays of `c` values from the operand base
   * and copies the given ones in (null: an output); returns their byte addresses.
   */
  const stage = (f32: (Float32Array | number)[], f64: (Float64Array | null)[], c: number): number[] => {
    const ptrs: number[] = [];
    let at = rt.operandBase;
    for (const a of f32) {
      ptrs.push(at);
      at = align(at + (typeof a === 'number' ? a : a.length) * 4, 64);
    }
    for (let i = 0; i < f64.length; i++) {
      ptrs.push(at);
      at = align(at + c * 8, 64);
    }
    rt.ensure(at);
    f32.forEach((a, i) => {
      if (typeof a !== 'number') rt.f32.set(a, ptrs[i]! >> 2);
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
      if (z && e) {
        const [xp, zp, op, ap, bp, ep] = stage([x as Float32Array, z as Float32Array, size], [a, b, e], c) as number[];
        run(Kind.Affine, shape, [xp!, ap!, bp!, op!, zp!, ep!]);
        rt.copyOut(op!, size, out as Float32Array);
      } else {
        // In place: the result overwrites the staged x.
        const [xp, ap, bp] = stage([x as Float32Array], [a, b], c) as number[];
        run(Kind.Affine, shape, [xp!, ap!, bp!, xp!, 0, 0]);
        rt.copyOut(xp!, size, out as Float32Array);
      }
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
