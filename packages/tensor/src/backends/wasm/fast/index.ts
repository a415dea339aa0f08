/**
 * Memory-bound kernels written as specialised TypeScript loops: they take the plain typed arrays
 * every kernel receives, so copying into Wasm memory and back would cost as much as the work.
 * Kernels left out here (gemm, maxPoolBackward) come from Wasm or fall back to the reference backend.
 */
import type { Kernels } from '../../../backend.js';
import { binary, unary, where } from './elementwise.js';
import { gather, indexAdd, indexSelect, scatterAdd, stridedAccumulate, stridedCopy } from './movement.js';
import { argReduce, reduce } from './reduce.js';
import { avgPool, avgPoolBackward, col2im, im2col, maxPool } from './window.js';

export const fastKernels: Partial<Kernels> = {
  unary, binary, where, reduce, argReduce,
  stridedCopy, stridedAccumulate, gather, scatterAdd, indexSelect, indexAdd,
  im2col, col2im, maxPool, avgPool, avgPoolBackward,
  // maxPoolBackward runs in Wasm (../max-pool.ts).
};
