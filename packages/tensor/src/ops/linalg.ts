/** Matrix products: batched matmul with broadcasting of the batch dims. */
import { kernels } from '../backend.js';
import { isFloatingDType, promoteTypes } from '../dtype.js';
import { broadcastShapes, formatShape, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { broadcastData, checkTensor, empty, finish, sumTo, uninitialized, viewOf } from './core.js';

type Float = Float32Array | Float64Array;

/**
 * op(a) @ op(b) over broadcast batch dims, where op transposes the last two dims when asked.
 * Off the tape: used by matmul's forward and its backward.
 */
export function batchedGemm(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const ar = a.ndim;
  const br = b.ndim;
  const m = transA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const k = transA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const n = transB ? b.shape[br - 2]! : b.shape[br - 1]!;
  const aBatch = a.shape.slice(0, ar - 2);
  const bBatch = b.shape.slice(0, br - 2);
  const batchShape = broadcastShapes('matmul', aBatch, bBatch);
  const batch = sizeOf(batchShape);
  // A batch that is all broadcast reuses one matrix (stride 0); anything else is materialised.
  const operand = (t: Tensor, tBatch: readonly number[]): [Tensor, number] => {
    if (sizeOf(tBatch) === 1) return [t, 0];
    if (shapesEqual(tBatch, batchShape)) return [t, t.shape[t.ndim - 1]! * t.shape[t.ndim - 2]!];
    const full = broadcastData(t, [...batchShape, t.shape[t.ndim - 2]!, t.shape[t.ndim - 1]!]);
    return [full, full.shape[full.ndim - 1]! * full.shape[full.ndim - 2]!];
  };
  const [A, aStride] = operand(a, aBatch);
  const [B, bStride] = operand(b, bBatch);
  const out = uninitialized([...batchShape, m, n], a.dtype); // gemm without accumulate writes all of it
  kernels().gemm({
    batch, m, n, k, transA, transB,
    a: A._data as Float, aOffset: 0, aBatchStride: aStride,
    b: B._data as Float, bOffset: 0, bBatchStride: bStride,
    c: out._data as Float, cOffset: 0, cBatchStride: m * n,
    accumulate: false,
  });
  return out;
}

/**
 * Matrix product with NumPy/PyTorch semantics: 1-D operands are promoted to a row (left) or a
 * column (right) and the added dim removed again; leading batch dims broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', 'a', a);
  checkTensor('matmul', 'b', b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(`Kiln: matmul: both operands need at least 1 dim, got ${formatShape(a.shape)} @ ${formatShape(b.shape)}`);
  }
  const dtype = promoteTypes(a.dtype, b.dtype);
  if (!isFloatingDType(dtype)) {
    throw new Error(`Kiln: matmul: expected floating tensors, got ${a.dtype} @ ${b.dtype} (cast with .float())`);
  }
  const x = a.dtype === dtype ? a : a.to(dtype);
  const y = b.dtype === dtype ? b : b.to(dtype);
  const x2 = x.ndim === 1 ? viewOf(x, [1, x.shape[0]!]) : x;
  const y2 = y.ndim === 1 ? viewOf(y, [y.shape[0]!, 1]) : y;
  const k1 = x2.shape[x2.ndim - 1]!;
  const k2 = y2.shape[y2.ndim - 2]!;
  if (k1 !== k2) {
    throw new Error(`Kiln: matmul: inner dimensions differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`);
  }
  const full = batchedGemm(x2, y2, false, false);
  let shape = [...full.shape];
  if (a.ndim === 1) shape.splice(shape.length - 2, 1);
  if (b.ndim === 1) shape = shape.slice(0, -1);
  return finish(viewOf(full, shape), 'matmul', [x, y], {}, (g) => {
    const g2 = viewOf(g, full.shape);
    const gx = x.requiresGrad ? viewOf(sumTo(batchedGemm(g2, y2, false, true), x2.shape), x.shape) : null;
    const gy = y.requiresGrad ? viewOf(sumTo(batchedGemm(x2, g2, true, false), y2.shape), y.shape) : null;
    return [gx, gy];
  });
}

/**
 * x·Wᵀ + b, the affine map of a dense layer: x `[..., in]`, weight `[out, in]` (PyTorch's
 * layout), bias `[out]` or null → `[..., out]`. One GEMM with W read transposed in place, the
 * bias pre-loaded into the output, so no transpose or broadcast is materialised forward or
 * backward. Traced as `linear` (ONNX Gemm with transB = 1).
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkTensor('linear', 'x', x);
  checkTensor('linear', 'weight', weight);
  if (bias !== null) checkTensor('linear', 'bias', bias);
  if (weight.ndim !== 2) throw new Error(`Kiln: linear: weight must be 2-D [out, in], got ${formatShape(weight.shape)}`);
  const [outF, inF] = weight.shape as [number, number];
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    throw new Error(`Kiln: linear: x's last dim must equal weight's in-features ${inF}, got x ${formatShape(x.shape)} and weight ${formatShape(weight.shape)}`);
  }
  if (bias && !(bias.ndim === 1 && bias.shape[0] === outF)) {
    throw new Error(`Kiln: linear: bias must have shape [${outF}], got ${formatShape(bias.shape)}`);
  }
  let dtype = promoteTypes(x.dtype, weight.dtype);
  if (bias) dtype = promoteTypes(dtype, bias.dtype);
  if (!isFloatingDType(dtype)) {
    throw new Error(`Kiln: linear: expected floating tensors, got x ${x.dtype}, weight ${weight.dtype}${bias ? `, bias ${bias.dtype}` : ''}`);
  }
  const xs = x.dtype === dtype ? x : x.to(dtype);
  const w = weight.dtype === dtype ? weight : weight.to(dtype);
  const b = bias && (bias.dtype === dtype ? bias : bias.to(dtype));
  const rows = sizeOf(x.shape.slice(0, -1));
  // Written in full by gemm, which starts each row from the bias (no separate pass or copy).
  const out = uninitialized([...x.shape.slice(0, -1), outF], dtype);
  kernels().gemm({
    batch: 1, m: rows, n: outF, k: inF, transA: false, transB: true,
    a: xs._data as Float, aOffset: 0, aBatchStride: 0,
    b: w._data as Float, bOffset: 0, bBatchStride: 0,
    c: out._data as Float, cOffset: 0, cBatchStride: 0,
    accumulate: false, bias: b ? (b._data as Float) : null,
  });
  const inputs = b ? [xs, w, b] : [xs, w];
  return finish(out, 'linear', inputs, {}, (g) => {
    const k = kernels();
    const gd = g._data as Float;
    // dx = g·W, dW = gᵀ·x, db = Σ_rows g; each only where it is wanted (a network's input
    // usually is not, and its dx would be the largest product of the backward pass).
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    if (xs.requiresGrad) {
      gx = uninitialized(xs.shape, dtype);
      k.gemm({
        batch: 1, m: rows, n: inF, k: outF, transA: false, transB: false,
        a: gd, aOffset: 0, aBatchStride: 0, b: w._data as Float, bOffset: 0, bBatchStride: 0,
        c: gx._data as Float, cOffset: 0, cBatchStride: 0, accumulate: false,
      });
    }
    if (w.requiresGrad) {
      // A parameter's gradient slot when it has one (in Wasm memory), so no copy follows.
      gw = w._gradTarget() ?? uninitialized(w.shape, dtype);
      k.gemm({
        batch: 1, m: outF, n: inF, k: rows, transA: true, transB: false,
        a: gd, aOffset: 0, aBatchStride: 0, b: xs._data as Float, bOffset: 0, bBatchStride: 0,
        c: gw._data as Float, cOffset: 0, cBatchStride: 0, accumulate: false,
      });
    }
    if (!b) return [gx, gw];
    if (!b.requiresGrad) return [gx, gw, null];
    const gb = uninitialized([1, outF], dtype);
    k.reduce('sum', gd, [rows, outF], [0], gb._data);
    return [gx, gw, viewOf(gb, [outF])];
  });
}
