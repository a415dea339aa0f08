/**
 * Softmax and log-softmax over the last axis of float32 tensors on Wasm SIMD (assembly/softmax.ts):
 * one fused pass per row (max, vectorised exp and sum, normalise), where the reference spends two
 * Math.exp calls per element in JavaScript; backward from the saved output the same way. Arrays
 * already in the Wasm memory are read and written in place, others staged (one copy each way).
 * Large passes split by rows across the worker pool. Other axes and float64 take the fallback
 * (reference) kernels. Results agree with the reference to float32 rounding (the exp is within
 * ~1 ulp of Math.exp rounded, sums are float32 in a fixed order) and are the same bits on any
 * thread count (a row is computed the same way whichever thread runs it).
 */
import type { Kernels } from '../../backend.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, type WasmRuntime } from './runtime.js';
import { stageBinary, stageUnary } from './stage.js';

export interface SoftmaxExports {
  expF32(x: number, out: number, n: number): void;
  softmaxRowsF32(x: number, out: number, r0: number, r1: number, n: number, log: number): void;
  softmaxBackwardRowsF32(y: number, dy: number, dx: number, r0: number, r1: number, n: number, log: number): void;
}

type SoftmaxKernels = Pick<Kernels, 'softmax' | 'softmaxBackward'>;

/**
 * Elements per share of a threaded pass (~20 µs of exp at 1 thread), up to SHARES_PER_THREAD
 * shares per thread (any thread takes any share, pool.ts): a language model's [2048, 64] logits
 * split in 8 at 2 threads, a classifier's [64, 10] stays on this thread.
 */
const PER_SHARE = 1 << 13;
const SHARES_PER_THREAD = 4;

export function makeSoftmax(rt: WasmRuntime, pool: WorkerPool, threads: () => number, fallback: SoftmaxKernels): SoftmaxKernels {
  const ex = rt.exports as unknown as SoftmaxExports;
  /** Runs rows [0, rows) of one direction on the pool (or here, when small). */
  const pass = (dir: 0 | 1, a: number, b: number, c: number, rows: number, n: number, log: number): void => {
    const t = threads();
    const shares = t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, rows, Math.floor((rows * n) / PER_SHARE)));
    if (shares === 1) {
      if (dir === 0) ex.softmaxRowsF32(a, b, 0, rows, n, log);
      else ex.softmaxBackwardRowsF32(a, b, c, 0, rows, n, log);
      return;
    }
    // The task descriptor (assembly/softmax.ts, softmaxTask).
    const d = rt.i32;
    const q = DESC >> 2;
    [d[q], d[q + 1], d[q + 2], d[q + 3], d[q + 4], d[q + 5], d[q + 6]] = [dir, a, b, c, rows, n, log];
    pool.run('softmaxTask', DESC, shares, t);
  };
  return {
    softmax(a) {
      const { x, out } = a;
      const count = x.length;
      if (a.inner !== 1 || !(x instanceof Float32Array && out instanceof Float32Array) || count * 8 + 128 > operandCapacity(rt)) {
        fallback.softmax(a);
        return;
      }
      // Arrays that live in the Wasm memory (activation blocks) are used in place; others are staged.
      stageUnary(rt, x, out, (xPtr, outPtr) => pass(0, xPtr, outPtr, 0, a.outer, a.n, a.log ? 1 : 0));
    },
    softmaxBackward(a) {
      const { y, dy, dx } = a;
      const count = y.length;
      if (a.inner !== 1 || !(y instanceof Float32Array && dy instanceof Float32Array && dx instanceof Float32Array) || count * 12 + 192 > operandCapacity(rt)) {
        fallback.softmaxBackward(a);
        return;
      }
      stageBinary(rt, y, dy, dx, (yPtr, gPtr, xPtr) => pass(1, yPtr, gPtr, xPtr, a.outer, a.n, a.log ? 1 : 0));
    },
  };
}

/** exp of every element through the kernels' vector exp (for tests). */
export function wasmExpF32(rt: WasmRuntime, x: Float32Array): Float32Array {
  const n = x.length;
  const xPtr = rt.operandBase;
  const outPtr = align(xPtr + n * 4, 64);
  rt.ensure(outPtr + n * 4);
  rt.f32.set(x, xPtr >> 2);
  (rt.exports as unknown as SoftmaxExports).expF32(xPtr, outPtr, n);
  const out = new Float32Array(n);
  rt.copyOut(outPtr, n, out);
  return out;
}
