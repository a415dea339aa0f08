/**
 * Sums over the leading axes of a float32 array on Wasm (assembly/elementwise.ts,
 * columnSumTask) — a dense layer's bias gradient, `[rows, out]` → `[out]` —, split by columns
 * across the worker pool. The kernel accumulates each column in f64 with the rows in order, as
 * the reference does, so results are its bits on any thread count. Other reductions, and small
 * ones, go to the fallback kernel.
 */
import type { Kernels } from '../../backend.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, type WasmRuntime } from './runtime.js';

/** Elements below which the TypeScript loops are as fast as staging. */
const MIN_ELEMENTS = 4096;
/** Elements per share of a threaded sum, and shares per thread (any thread may take any share). */
const PER_SHARE = 1 << 15;
const SHARES_PER_THREAD = 2;

/** Rows when `axes` are the leading axes 0..a−1 of `shape` (a ≥ 1, at least one kept axis); 0 otherwise. */
function leadingRows(shape: readonly number[], axes: readonly number[]): number {
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  let rows = 1;
  for (let i = 0; i < axes.length; i++) {
    if (axes[i] !== i) return 0;
    rows *= shape[i]!;
  }
  return rows;
}

export function makeColumnSums(rt: WasmRuntime, pool: WorkerPool, threads: () => number, fallback: Pick<Kernels, 'reduce'>): Pick<Kernels, 'reduce'> {
  return {
    reduce(op, x, shape, axes, out) {
      const rows = leadingRows(shape, axes);
      const n = x.length;
      if (op !== 'sum' || rows === 0 || n < MIN_ELEMENTS || !(x instanceof Float32Array && out instanceof Float32Array)) {
        fallback.reduce(op, x, shape, axes, out);
        return;
      }
      const len = n / rows;
      const resident = rt.residentPtr(x);
      const xPtr = resident >= 0 ? resident : rt.operandBase;
      const outPtr = align(Math.max(rt.operandBase, resident >= 0 ? 0 : xPtr + n * 4), 64);
      if (outPtr + len * 4 - rt.operandBase > operandCapacity(rt)) {
        fallback.reduce(op, x, shape, axes, out);
        return;
      }
      rt.ensure(outPtr + len * 4);
      if (resident < 0) rt.f32.set(x, xPtr >> 2);
      rt.i32.set([xPtr, rows, len, outPtr], DESC >> 2);
      const t = threads();
      const shares = t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, Math.ceil(len / 8), Math.floor(n / PER_SHARE)));
      pool.run('columnSumTask', DESC, shares, t);
      rt.copyOut(outPtr, len, out);
    },
  };
}
