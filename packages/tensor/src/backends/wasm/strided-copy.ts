/**
 * Strided float32 copies (permute, expand, slice, flip and permute's gradient) on Wasm SIMD
 * (assembly/strided-copy.ts), split by output row across the worker pool. They run here when
 * the source or the output already lives in the Wasm memory (a step scope's or a backward pass's
 * activations), so at most one side is copied; between two arrays in the JavaScript heap the
 * fallback's loops (a `set` per contiguous run) cost less than staging both. Shapes that do not
 * collapse to four dims, float64, int and small copies also take the fallback.
 */
import type { Kernels } from '../../backend.js';
import { collapseDims } from './fast/plan.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, type WasmRuntime } from './runtime.js';

type CopyKernels = Pick<Kernels, 'stridedCopy'>;

/** Below this many elements the JavaScript loop costs less than the call. */
const MIN_ELEMENTS = 1 << 12;
/** Elements per share of a threaded copy (~10 µs), up to SHARES_PER_THREAD shares a thread. */
const PER_SHARE = 1 << 15;
const SHARES_PER_THREAD = 2;
/** A source in the JavaScript heap is staged only when the copy reads most of what is staged. */
const STAGED_SPAN_RATIO = 2;

export function makeStridedCopy(rt: WasmRuntime, pool: WorkerPool, threads: () => number, fallback: CopyKernels): CopyKernels {
  return {
    stridedCopy(x, offset, shape, strides, out) {
      const n = out.length;
      if (!(x instanceof Float32Array && out instanceof Float32Array) || n < MIN_ELEMENTS) {
        fallback.stridedCopy(x, offset, shape, strides, out);
        return;
      }
      const xRes = rt.residentPtr(x);
      const outRes = rt.residentPtr(out);
      if (xRes < 0 && outRes < 0) {
        fallback.stridedCopy(x, offset, shape, strides, out);
        return;
      }
      const plan = collapseDims(shape, [strides]);
      const dims = plan.shape;
      const st = plan.strides[0]!;
      if (dims.length > 4) {
        fallback.stridedCopy(x, offset, shape, strides, out);
        return;
      }
      // The elements read lie in [lo, hi] (strides may be negative: flip; or 0: expand).
      let lo = offset;
      let hi = offset;
      dims.forEach((d, i) => {
        const reach = st[i]! * (d - 1);
        if (reach < 0) lo += reach;
        else hi += reach;
      });
      const span = hi - lo + 1;
      if (lo < 0 || hi >= x.length || (xRes < 0 && span > STAGED_SPAN_RATIO * n)
        || (xRes < 0 ? span : 0) * 4 + (outRes < 0 ? n : 0) * 4 + 128 > operandCapacity(rt)) {
        fallback.stridedCopy(x, offset, shape, strides, out);
        return;
      }
      let end = rt.operandBase;
      const spanPtr = xRes >= 0 ? xRes + lo * 4 : end;
      if (xRes < 0) end = align(end + span * 4, 64);
      const outPtr = outRes >= 0 ? outRes : end;
      if (outRes < 0) end += n * 4;
      rt.ensure(end);
      if (xRes < 0) rt.f32.set(x.subarray(lo, hi + 1), spanPtr >> 2);
      // Four dims [d0, d1, d2, inner], leading ones of size 1 when the shape collapsed further.
      const pad = 4 - dims.length;
      const d = [...new Array<number>(pad).fill(1), ...dims];
      const s = [...new Array<number>(pad).fill(0), ...st];
      const rows = n / d[3]!;
      const t = threads();
      const shares = t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, rows, Math.floor(n / PER_SHARE)));
      const i32 = rt.i32;
      const q = DESC >> 2;
      i32[q] = spanPtr + (offset - lo) * 4;
      i32[q + 1] = outPtr;
      for (let k = 0; k < 4; k++) {
        i32[q + 2 + k] = d[k]!;
        i32[q + 6 + k] = s[k]!;
      }
      pool.run('stridedCopyTask', DESC, shares, t);
      if (outRes < 0) rt.copyOut(outPtr, n, out);
    },
  };
}
