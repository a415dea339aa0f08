/**
 * Staging for the elementwise Wasm kernels (relu.ts, arith.ts): copy the float32 operands to
 * the staging area, run one pass, copy the result out. One place for the layout, so each
 * wrapper only says which kernel runs.
 */
import { align, type WasmRuntime } from './runtime.js';

/** out = f(x): `run(xPtr, outPtr, n)` gets byte addresses in the Wasm memory. */
export function stageUnary(rt: WasmRuntime, x: Float32Array, out: Float32Array, run: (xPtr: number, outPtr: number, n: number) => void): void {
  const n = x.length;
  const xPtr = rt.operandBase;
  const outPtr = align(xPtr + n * 4, 64);
  rt.ensure(outPtr + n * 4);
  rt.f32.set(x, xPtr >> 2);
  run(xPtr, outPtr, n);
  rt.copyOut(outPtr, n, out);
}

/**
 * out = f(a, b) with a the full output size and b of any length (the same size, one value per
 * row, a scalar): `run(aPtr, bPtr, outPtr, n)`.
 */
export function stageBinary(rt: WasmRuntime, a: Float32Array, b: Float32Array, out: Float32Array,
  run: (aPtr: number, bPtr: number, outPtr: number, n: number) => void): void {
  const n = a.length;
  const aPtr = rt.operandBase;
  const outPtr = align(aPtr + n * 4, 64);
  const bPtr = align(outPtr + n * 4, 64);
  rt.ensure(bPtr + b.length * 4);
  rt.f32.set(a, aPtr >> 2);
  rt.f32.set(b, bPtr >> 2);
  run(aPtr, bPtr, outPtr, n);
  rt.copyOut(outPtr, n, out);
}
