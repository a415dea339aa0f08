/**
 * relu and its gradient on Wasm for large float32 arrays. Copying into Wasm memory and back runs
 * at memcpy speed (~20 GB/s here), while V8's loops over typed arrays passed as arguments manage
 * ~1–2 ns an element (a branch per element that random signs mispredict), so from a few
 * hundred elements on, staging plus one SIMD pass wins.
 * Smaller or non-float32 calls use the given fallback kernels.
 */
import type { Kernels } from '../../backend.js';
import type { WasmRuntime } from './runtime.js';
import { stageBinary, stageUnary } from './stage.js';

/**
 * Elements below which the TypeScript loop is as fast as staging. Per call at 1 thread, CPU,
 * random signs: 8192 elements relu 8.1 µs in TypeScript, 3.0 µs staged; reluGrad 10.4 / 4.2 µs;
 * 512 elements 0.31 / 0.42 µs staged, about the loop's cost.
 */
const MIN_ELEMENTS = 512;

export function makeRelu(rt: WasmRuntime, fallback: Pick<Kernels, 'unary' | 'binary'>): Pick<Kernels, 'unary' | 'binary'> {
  return {
    unary(op, x, out, p0, p1) {
      if (op !== 'relu' || !(x instanceof Float32Array && out instanceof Float32Array) || x.length < MIN_ELEMENTS) {
        fallback.unary(op, x, out, p0, p1);
        return;
      }
      stageUnary(rt, x, out, (xPtr, outPtr, n) => rt.exports.reluF32(xPtr, outPtr, n));
    },
    binary(op, a, aShape, b, bShape, out, outShape) {
      const n = out.length;
      if (op !== 'reluGrad' || !(a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array)
        || a.length !== n || b.length !== n || n < MIN_ELEMENTS) {
        fallback.binary(op, a, aShape, b, bShape, out, outShape);
        return;
      }
      stageBinary(rt, a, b, out, (dyPtr, xPtr, outPtr, count) => rt.exports.reluGradF32(dyPtr, xPtr, outPtr, count));
    },
  };
}
