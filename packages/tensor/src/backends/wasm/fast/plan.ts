/**
 * Loop planning shared by the fast kernels: an N-d iteration over a shape with one stride
 * vector per operand is rewritten as the fewest dims that visit the same offsets in the same
 * order, so kernels run a tight inner loop over the last dim and carry only the outer ones.
 */
import type { Shape } from '../../../shape.js';

/** A collapsed iteration: `shape` (rank ≥ 1, no size-1 dims unless rank is 1) and per-operand strides. */
export interface LoopPlan {
  shape: number[];
  strides: number[][];
}

/**
 * Drops size-1 dims and merges dim d into d+1 wherever every operand steps through both as one
 * run (stride[d] = stride[d+1]·shape[d+1]); row-major visiting order is unchanged.
 */
export function collapseDims(shape: Shape, strides: readonly (readonly number[])[]): LoopPlan {
  const k = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  // Built innermost first, reversed at the end.
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    for (let j = 0; j < k && merge; j++) {
      if (strides[j]![d]! !== outStrides[j]![last]! * outShape[last]!) merge = false;
    }
    if (merge) {
      outShape[last] = outShape[last]! * size;
    } else {
      outShape.push(size);
      for (let j = 0; j < k; j++) outStrides[j]!.push(strides[j]![d]!);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (let j = 0; j < k; j++) outStrides[j]!.push(0);
  }
  outShape.reverse();
  for (const s of outStrides) s.reverse();
  return { shape: outShape, strides: outStrides };
}
