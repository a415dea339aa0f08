/**
 * Row lookups along the first axis of float32 tables on Wasm SIMD (assembly/index-rows.ts): an
 * Embedding's forward (`indexSelect` on dim 0) and its weight gradient (`indexAdd` on dim 0).
 * Arrays already in the Wasm memory (a backward pass's gradients) are used in place, others
 * staged; the gather runs here only into an array in the Wasm memory (else the JavaScript loop
 * is cheaper than a copy out). Large lookups split across the worker pool: the gather by output
 * row, the scatter-add by table row (each share adds, in index order, only the rows in its
 * block), so the results are the reference's bits on any thread count. Other axes, float64,
 * small lookups, and large tables in the JavaScript heap that a lookup touches only in part take
 * the fallback kernels.
 */
import type { Kernels } from '../../backend.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, type WasmRuntime } from './runtime.js';
import { place } from './stage.js';

type IndexRowKernels = Pick<Kernels, 'indexSelect' | 'indexAdd'>;

/** Below this many elements moved, the JavaScript loop costs less than a call into Wasm. */
const MIN_ELEMENTS = 1 << 10;
/** Elements per share of a threaded lookup (a few µs each), up to SHARES_PER_THREAD per thread. */
const PER_SHARE = 1 << 14;
const SHARES_PER_THREAD = 4;
/** A table in the JavaScript heap is staged only up to this many times the rows' length. */
const STAGED_TABLE_RATIO = 4;

export function makeIndexRows(rt: WasmRuntime, pool: WorkerPool, threads: () => number, fallback: IndexRowKernels): IndexRowKernels {
  /**
   * Stages the table, the indices and the rows (those not resident), runs the lookup and
   * returns the table's and the rows' addresses; null (nothing run) when an index is out of
   * range or the operands do not fit.
   */
  const lookup = (mode: 0 | 1, table: Float32Array, len: number, index: Int32Array, rows: Float32Array, inner: number): [number, number] | null => {
    const m = index.length;
    if ((table.length + rows.length + m) * 4 + 192 > operandCapacity(rt)) return null;
    // A large table in the JavaScript heap that the lookup touches only in part (a big
    // vocabulary, few tokens) would cost more to stage than the JavaScript loop.
    if (table.length > STAGED_TABLE_RATIO * rows.length && rt.residentPtr(table) < 0) return null;
    const end = { at: rt.operandBase };
    const tPtr = place(rt, table, end);
    const rPtr = place(rt, rows, end);
    const iPtr = end.at;
    end.at = align(iPtr + m * 4, 64);
    rt.ensure(end.at);
    const i32 = rt.i32;
    i32.set(index, iPtr >> 2);
    // The kernel trusts its indices: one out of range would touch other memory.
    for (let j = 0; j < m; j++) if (!(index[j]! >= 0 && index[j]! < len)) return null;
    // The gather overwrites every row; the scatter-add reads the table's current values.
    if (tPtr >= rt.operandBase) rt.f32.set(table, tPtr >> 2);
    if (mode === 1 && rPtr >= rt.operandBase) rt.f32.set(rows, rPtr >> 2);
    const t = threads();
    const blocks = mode === 0 ? m : len;
    const shares = t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, blocks, Math.floor((m * inner) / PER_SHARE)));
    const q = DESC >> 2;
    [i32[q], i32[q + 1], i32[q + 2], i32[q + 3], i32[q + 4], i32[q + 5], i32[q + 6]] = [mode, tPtr, iPtr, rPtr, m, inner, len];
    pool.run('indexRowsTask', DESC, shares, t);
    return [tPtr, rPtr];
  };
  return {
    indexSelect(x, xShape, dim, index, out) {
      const inner = out.length / Math.max(1, index.length);
      // Into an array in the JavaScript heap, the loop there costs less than gathering in Wasm
      // and copying out.
      if (dim !== 0 || out.length < MIN_ELEMENTS || !(x instanceof Float32Array && out instanceof Float32Array) || rt.residentPtr(out) < 0) {
        fallback.indexSelect(x, xShape, dim, index, out);
        return;
      }
      const at = lookup(0, x, xShape[0]!, index, out, inner);
      if (at === null) fallback.indexSelect(x, xShape, dim, index, out);
    },
    indexAdd(out, outShape, dim, index, src) {
      const inner = src.length / Math.max(1, index.length);
      if (dim !== 0 || src.length < MIN_ELEMENTS || !(out instanceof Float32Array && src instanceof Float32Array)) {
        fallback.indexAdd(out, outShape, dim, index, src);
        return;
      }
      const at = lookup(1, out, outShape[0]!, index, src, inner);
      if (at === null) fallback.indexAdd(out, outShape, dim, index, src);
      else if (at[0] >= rt.operandBase) rt.copyOut(at[0], out.length, out);
    },
  };
}
