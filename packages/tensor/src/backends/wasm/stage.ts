/**
 * Staging for the elementwise and row-wise Wasm kernels (relu.ts, arith.ts, softmax.ts): copy the float32 operands to
 * the staging area, run one pass, copy the result out. One place for the layout, so each
 * wrapper only says which kernel runs. Arrays that already live in the Wasm memory (resident
 * parameters, a backward pass's activations) are read and written in place.
 */
import { align, type WasmRuntime } from './runtime.js';

/** Byte address of `a` where it lives in the Wasm memory; else reserves room for it at `end.at`. */
export function place(rt: WasmRuntime, a: Float32Array, end: { at: number }): number {
  const p = rt.residentPtr(a);
  if (p >= 0) return p;
  const ptr = end.at;
  end.at = align(ptr + a.length * 4, 64);
  return ptr;
}

/** out = f(x): `run(xPtr, outPtr, n)` gets byte addresses in the Wasm memory. */
export function stageUnary(rt: WasmRuntime, x: Float32Array, out: Float32Array, run: (xPtr: number, outPtr: number, n: number) => void): void {
  const n = x.length;
  const end = { at: rt.operandBase };
  const xPtr = place(rt, x, end);
  const outPtr = place(rt, out, end);
  rt.ensure(end.at);
  if (xPtr >= rt.operandBase) rt.f32.set(x, xPtr >> 2);
  run(xPtr, outPtr, n);
  if (outPtr >= rt.operandBase) rt.copyOut(outPtr, n, out);
}

/**
 * out = f(a, b) with a the full output size and b of any length (the same size, one value per
 * row, a scalar): `run(aPtr, bPtr, outPtr, n)`.
 */
export function stageBinary(rt: WasmRuntime, a: Float32Array, b: Float32Array, out: Float32Array,
  run: (aPtr: number, bPtr: number, outPtr: number, n: number) => void): void {
  const n = a.length;
  const end = { at: rt.operandBase };
  const aPtr = place(rt, a, end);
  const outPtr = place(rt, out, end);
  const bPtr = place(rt, b, end);
  rt.ensure(end.at);
  if (aPtr >= rt.operandBase) rt.f32.set(a, aPtr >> 2);
  if (bPtr >= rt.operandBase) rt.f32.set(b, bPtr >> 2);
  run(aPtr, bPtr, outPtr, n);
  if (outPtr >= rt.operandBase) rt.copyOut(outPtr, n, out);
}
