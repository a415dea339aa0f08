/**
 * Layer normalisation over the last axis of float32 tensors on Wasm SIMD (assembly/layer-norm.ts):
 * one fused pass per row for the moments and the scaled, shifted output, and one for the
 * backward, where the composite of primitives made ~10 passes with broadcasts in JavaScript.
 * Arrays already in the Wasm memory (activation blocks, resident parameters) are read and
 * written in place, others staged. Large passes split by rows across the worker pool.
 *
 * Results agree with the reference to float32 rounding (sums are float32 in four lanes) and are
 * the same bits on any thread count: a row is computed the same way whichever thread runs it,
 * and the backward's column sums (dweight, dbias) are summed per share, over a number of shares
 * fixed by the geometry alone, then added up here in share order. float64 takes the fallback.
 */
import type { Kernels, LayerNormArgs, LayerNormBackwardArgs } from '../../backend.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, type WasmRuntime } from './runtime.js';
import { place } from './stage.js';

type LayerNormKernels = Pick<Kernels, 'layerNorm' | 'layerNormBackward'>;

/** Elements per share of a threaded pass, and shares per thread (any thread takes any share, pool.ts). */
const PER_SHARE = 1 << 13;
const SHARES_PER_THREAD = 4;
/**
 * Shares of a backward pass, whatever the thread count: each keeps its own partial column sums,
 * so their number must not follow the threads (that would change the order of the sums).
 */
const BACKWARD_SHARES = 8;

const isF32 = (a: Float32Array | Float64Array | null): a is Float32Array | null => a === null || a instanceof Float32Array;

/** Bytes the staging of `arrays` may take (each aligned to 64). */
function stagedBytes(arrays: ReadonlyArray<Float32Array | Float64Array | null>): number {
  let bytes = 0;
  for (const a of arrays) if (a) bytes += a.length * 4 + 64;
  return bytes;
}

export function makeLayerNorm(rt: WasmRuntime, pool: WorkerPool, threads: () => number, fallback: LayerNormKernels): LayerNormKernels {
  /** Places `a` (an input) in the Wasm memory, copying it there unless it lives there already; 0 for null. */
  const input = (a: Float32Array | null, end: { at: number }, copies: [Float32Array, number][]): number => {
    if (!a) return 0;
    const p = place(rt, a, end);
    if (p >= rt.operandBase) copies.push([a, p]);
    return p;
  };
  const writeDesc = (words: number[]): void => {
    rt.i32.set(words, DESC >> 2);
  };

  return {
    layerNorm(a: LayerNormArgs) {
      const { x, weight, bias, out, mean, rstd, rows, n } = a;
      if (rows === 0 || !(isF32(x) && isF32(weight) && isF32(bias) && isF32(out) && isF32(mean) && isF32(rstd))
        || stagedBytes([x, weight, bias, out, mean, rstd]) > operandCapacity(rt)) {
        fallback.layerNorm(a);
        return;
      }
      const end = { at: rt.operandBase };
      const copies: [Float32Array, number][] = [];
      const xPtr = input(x, end, copies);
      const wPtr = input(weight, end, copies);
      const bPtr = input(bias, end, copies);
      const outPtr = place(rt, out, end);
      const meanPtr = place(rt, mean, end);
      const rstdPtr = place(rt, rstd, end);
      rt.ensure(end.at);
      for (const [arr, p] of copies) rt.f32.set(arr, p >> 2);
      const t = threads();
      const shares = t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, rows, Math.floor((rows * n) / PER_SHARE)));
      writeDesc([0, rows, n, xPtr, wPtr, bPtr, outPtr, meanPtr, rstdPtr]);
      new Float64Array(rt.memory.buffer, DESC + 48, 1)[0] = a.eps;
      pool.run('layerNormTask', DESC, shares, t);
      for (const [arr, p] of [[out, outPtr], [mean, meanPtr], [rstd, rstdPtr]] as const) {
        if (p >= rt.operandBase) rt.copyOut(p, arr.length, arr);
      }
    },
    layerNormBackward(a: LayerNormBackwardArgs) {
      const { x, dy, weight, mean, rstd, dx, dweight, dbias, rows, n } = a;
      const shares = Math.max(1, Math.min(BACKWARD_SHARES, rows, Math.floor((rows * n) / PER_SHARE)));
      const partBytes = (dweight ? 1 : 0) + (dbias ? 1 : 0);
      if (rows === 0 || !(isF32(x) && isF32(dy) && isF32(weight) && isF32(mean) && isF32(rstd) && isF32(dx) && isF32(dweight) && isF32(dbias))
        || stagedBytes([x, dy, weight, mean, rstd, dx]) + partBytes * (shares * n * 4 + 64) > operandCapacity(rt)) {
        fallback.layerNormBackward(a);
        return;
      }
      const end = { at: rt.operandBase };
      const copies: [Float32Array, number][] = [];
      const xPtr = input(x, end, copies);
      const dyPtr = input(dy, end, copies);
      const wPtr = input(weight, end, copies);
      const meanPtr = input(mean, end, copies);
      const rstdPtr = input(rstd, end, copies);
      const dxPtr = dx ? place(rt, dx, end) : 0;
      // Partial column sums, one row of n per share (the kernel zeroes its own).
      const partPtr = (want: boolean): number => {
        if (!want) return 0;
        const p = end.at;
        end.at = align(p + shares * n * 4, 64);
        return p;
      };
      const pwPtr = partPtr(dweight !== null);
      const pbPtr = partPtr(dbias !== null);
      rt.ensure(end.at);
      for (const [arr, p] of copies) rt.f32.set(arr, p >> 2);
      writeDesc([1, rows, n, xPtr, dyPtr, wPtr, meanPtr, rstdPtr, dxPtr, pwPtr, pbPtr]);
      pool.run('layerNormTask', DESC, shares, threads());
      if (dx && dxPtr >= rt.operandBase) rt.copyOut(dxPtr, dx.length, dx);
      const f = rt.f32;
      for (const [sum, p] of [[dweight, pwPtr], [dbias, pbPtr]] as const) {
        if (!sum) continue;
        const base = p >> 2;
        // In share order, so the sum does not depend on which thread finished first.
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < shares; k++) s += f[base + k * n + j]!;
          sum[j] = s;
        }
      }
    },
  };
}
