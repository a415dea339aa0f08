/**
 * add, sub, mul, div and clamp on Wasm SIMD for large float32 arrays — the per-channel passes of
 * batch norm, bias adds and ReLU6 —, where V8's loops over typed arrays manage ~1–2 ns an
 * element and staging into Wasm memory runs at memcpy speed (see relu.ts). Handles same-shape
 * operands and a second operand that is constant along the innermost (collapsed) dim: a scalar,
 * or one value per row such as a `[1, C, 1, 1]` statistic against `[N, C, H, W]`. Results are
 * the reference's bit for bit (single-precision +, −, ×, ÷ equal JavaScript's double result
 * rounded to float32). Everything else goes to the fallback kernels.
 */
import type { BinaryOp, Kernels } from '../../backend.js';
import { broadcastStrides } from '../../shape.js';
import { collapseDims } from './fast/plan.js';
import type { WasmRuntime } from './runtime.js';
import { stageBinary, stageUnary } from './stage.js';

/**
 * Elements below which the TypeScript loops are as fast as staging. Per call at 1 thread, CPU:
 * same-shape mul of 8192 elements 10.2 µs in TypeScript, 4.6 µs staged (1024: 1.3 / 0.8 µs);
 * clamp 18.7 / 3.0 µs. A second operand with one value per row first gathers those values in
 * TypeScript, so that form pays off only on larger arrays (8192 elements: 12.2 / 13.2 µs).
 */
const MIN_ELEMENTS = 1024;
const MIN_ELEMENTS_ROWS = 16384;
const OPS: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3 };

export interface ArithExports {
  binaryF32(op: number, a: number, b: number, out: number, n: number): void;
  binaryRowsF32(op: number, a: number, s: number, out: number, rows: number, inner: number): void;
  clampF32(x: number, out: number, n: number, lo: number, hi: number): void;
}

/**
 * One value of b per row of `inner` output elements, when b is constant along the innermost
 * collapsed dim and a is the full output; null otherwise.
 */
function rowValues(b: Float32Array, bShape: readonly number[], outShape: readonly number[], n: number): { rows: Float32Array; inner: number } | null {
  if (b.length === 1) return { rows: b, inner: n };
  const plan = collapseDims(outShape, [broadcastStrides(bShape, outShape)]);
  const shape = plan.shape;
  const bs = plan.strides[0]!;
  const rank = shape.length;
  if (rank < 2 || bs[rank - 1] !== 0) return null;
  const inner = shape[rank - 1]!;
  const M = n / inner;
  const rows = new Float32Array(M);
  // Walk the outer dims with carried offsets (odometer over shape[0..rank-2]).
  const idx = new Array<number>(rank - 1).fill(0);
  let off = 0;
  for (let r = 0; r < M; r++) {
    rows[r] = b[off]!;
    for (let d = rank - 2; d >= 0; d--) {
      off += bs[d]!;
      if (++idx[d]! < shape[d]!) break;
      off -= bs[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return { rows, inner };
}

export function makeArith(rt: WasmRuntime, fallback: Pick<Kernels, 'unary' | 'binary'>): Pick<Kernels, 'unary' | 'binary'> {
  const ex = rt.exports as unknown as ArithExports;
  return {
    unary(op, x, out, p0, p1) {
      if (op !== 'clamp' || !(x instanceof Float32Array && out instanceof Float32Array) || x.length < MIN_ELEMENTS) {
        fallback.unary(op, x, out, p0, p1);
        return;
      }
      stageUnary(rt, x, out, (xPtr, outPtr, n) => ex.clampF32(xPtr, outPtr, n, p0, p1));
    },
    binary(op, a, aShape, b, bShape, out, outShape) {
      const n = out.length;
      const code = OPS[op];
      if (code === undefined || n < MIN_ELEMENTS || a.length !== n
        || !(a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array)) {
        fallback.binary(op, a, aShape, b, bShape, out, outShape);
        return;
      }
      if (b.length === n) {
        stageBinary(rt, a, b, out, (aPtr, bPtr, outPtr) => ex.binaryF32(code, aPtr, bPtr, outPtr, n));
        return;
      }
      const per = n >= MIN_ELEMENTS_ROWS ? rowValues(b, bShape, outShape, n) : null;
      if (!per) {
        fallback.binary(op, a, aShape, b, bShape, out, outShape);
        return;
      }
      stageBinary(rt, a, per.rows, out, (aPtr, sPtr, outPtr) => ex.binaryRowsF32(code, aPtr, sPtr, outPtr, per.rows.length, per.inner));
    },
  };
}
