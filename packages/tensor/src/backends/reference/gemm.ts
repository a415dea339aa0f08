import type { GemmArgs } from '../../backend.js';

/**
 * Straightforward strided batched GEMM. Loops are ordered so the innermost one walks C and B
 * rows contiguously (i-p-j); transposed operands are read through their strides.
 */
export function gemm(g: GemmArgs): void {
  const { batch, m, n, k, transA, transB, a, b, c, accumulate } = g;
  const bias = accumulate ? null : g.bias ?? null;
  // Element (i, p) of op(A) and (p, j) of op(B) as strides.
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  for (let t = 0; t < batch; t++) {
    const ao = g.aOffset + t * g.aBatchStride;
    const bo = g.bOffset + t * g.bBatchStride;
    const co = g.cOffset + t * g.cBatchStride;
    if (bias) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[co + i * n + j] = bias[j]!;
    else if (!accumulate) c.fill(0, co, co + m * n);
    for (let i = 0; i < m; i++) {
      const crow = co + i * n;
      for (let p = 0; p < k; p++) {
        const av = a[ao + i * aRow + p * aCol]!;
        const brow = bo + p * bRow;
        if (bCol === 1) {
          for (let j = 0; j < n; j++) c[crow + j] = c[crow + j]! + av * b[brow + j]!;
        } else {
          for (let j = 0; j < n; j++) c[crow + j] = c[crow + j]! + av * b[brow + j * bCol]!;
        }
      }
    }
  }
}
