/** Matrix products: batched matmul with broadcasting of the batch dims. */
import { kernels } from '../backend.js';
import { isFloatingDType, promoteTypes } from '../dtype.js';
import { broadcastShapes, formatShape, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { broadcastData, checkTensor, empty, finish, sumTo, viewOf } from './core.js';

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
  const out = empty([...batchShape, m, n], a.dtype);
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
    const gx = sumTo(batchedGemm(g2, y2, false, true), x2.shape);
    const gy = sumTo(batchedGemm(x2, g2, true, false), y2.shape);
    return [viewOf(gx, x.shape), viewOf(gy, y.shape)];
  });
}
