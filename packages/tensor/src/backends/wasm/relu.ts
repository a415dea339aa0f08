/**
 * relu and its gradient on Wasm for large float32 arrays. Copying into Wasm memory and back runs
 * at memcpy speed (~20 GB/s here), while V8's loops over typed arrays passed as arguments manage
 * ~2 ns an element, so from a few thousand elements on, staging plus one SIMD pass wins.
 * Smaller or non-float32 calls use the given fallback kernels.
 */
import type { Kernels } from '../../backend.js';
import { align, type WasmRuntime } from './runtime.js';

/** Elements below which the TypeScript loop is as fast as staging. */
const MIN_ELEMENTS = 16384;

export function makeRelu(rt: WasmRuntime, fallback: Pick<Kernels, 'unary' | 'binary'>): Pick<Kernels, 'unary' | 'binary'> {
  return {
    unary(op, x, out, p0, p1) {
      if (op !== 'relu' || !(x instanceof Float32Array && out instanceof Float32Array) || x.length < MIN_ELEMENTS) {
        fallback.unary(op, x, out, p0, p1);
        return;
      }
      const n = x.length;
      const xPtr = rt.operandBase;
      const outPtr = align(xPtr + n * 4, 64);
      rt.ensure(outPtr + n * 4);
      rt.f32.set(x, xPtr >> 2);
      rt.exports.reluF32(xPtr, outPtr, n);
      rt.copyOut(outPtr, n, out);
    },
    binary(op, a, aShape, b, bShape, out, outShape) {
      const n = out.length;
      if (op !== 'reluGrad' || !(a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array)
        || a.length !== n || b.length !== n || n < MIN_ELEMENTS) {
        fallback.binary(op, a, aShape, b, bShape, out, outShape);
        return;
      }
      const dyPtr = rt.operandBase;
      const xPtr = align(dyPtr + n * 4, 64);
      const outPtr = align(xPtr + n * 4, 64);
      rt.ensure(outPtr + n * 4);
      rt.f32.set(a, dyPtr >> 2);
      rt.f32.set(b, xPtr >> 2);
      rt.exports.reluGradF32(dyPtr, xPtr, outPtr, n);
      rt.copyOut(outPtr, n, out);
    },
  };
}
