/**
 * Softmax and log-softmax over the last axis of float32 tensors on Wasm SIMD (assembly/softmax.ts):
 * one staged copy in, one fused pass per row (max, vectorised exp and sum, normalise), one copy
 * out — where the reference spends two Math.exp calls per element in JavaScript. Backward from
 * the saved output the same way. Other axes and float64 take the fallback (reference) kernels.
 * Results agree with the reference to float32 rounding (the exp is within ~1 ulp of Math.exp
 * rounded, sums are float32 in a fixed order) and do not depend on the thread count.
 */
import type { Kernels } from '../../backend.js';
import { align, operandCapacity, type WasmRuntime } from './runtime.js';

export interface SoftmaxExports {
  expF32(x: number, out: number, n: number): void;
  softmaxRowsF32(x: number, out: number, r0: number, r1: number, n: number, log: number): void;
  softmaxBackwardRowsF32(y: number, dy: number, dx: number, r0: number, r1: number, n: number, log: number): void;
}

type SoftmaxKernels = Pick<Kernels, 'softmax' | 'softmaxBackward'>;

export function makeSoftmax(rt: WasmRuntime, fallback: SoftmaxKernels): SoftmaxKernels {
  const ex = rt.exports as unknown as SoftmaxExports;
  return {
    softmax(a) {
      const { x, out } = a;
      const count = x.length;
      if (a.inner !== 1 || !(x instanceof Float32Array && out instanceof Float32Array) || count * 8 + 128 > operandCapacity(rt)) {
        fallback.softmax(a);
        return;
      }
      const xPtr = rt.operandBase;
      const outPtr = align(xPtr + count * 4, 64);
      rt.ensure(outPtr + count * 4);
      rt.f32.set(x, xPtr >> 2);
      ex.softmaxRowsF32(xPtr, outPtr, 0, a.outer, a.n, a.log ? 1 : 0);
      rt.copyOut(outPtr, count, out);
    },
    softmaxBackward(a) {
      const { y, dy, dx } = a;
      const count = y.length;
      if (a.inner !== 1 || !(y instanceof Float32Array && dy instanceof Float32Array && dx instanceof Float32Array) || count * 8 + 128 > operandCapacity(rt)) {
        fallback.softmaxBackward(a);
        return;
      }
      const yPtr = rt.operandBase;
      const gPtr = align(yPtr + count * 4, 64);
      rt.ensure(gPtr + count * 4);
      rt.f32.set(y, yPtr >> 2);
      rt.f32.set(dy, gPtr >> 2);
      ex.softmaxBackwardRowsF32(yPtr, gPtr, gPtr, 0, a.outer, a.n, a.log ? 1 : 0);
      rt.copyOut(gPtr, count, dx);
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
