import type { ReduceOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import { sizeOf, stridesOf, type Shape } from '../../shape.js';

/**
 * Views `shape` as [outer, reduced, inner] after moving no data: reduction over a set of axes
 * is done as a loop over output cells, each scanning its reduced sub-box.
 */
export function reduce(op: ReduceOp, x: TypedArray, shape: Shape, axes: readonly number[], out: TypedArray): void {
  const rank = shape.length;
  const strides = stridesOf(shape);
  const reduced = new Set(axes);
  const keptDims: number[] = [];
  const redDims: number[] = [];
  for (let d = 0; d < rank; d++) (reduced.has(d) ? redDims : keptDims).push(d);
  const redShape = redDims.map((d) => shape[d]!);
  const redStrides = redDims.map((d) => strides[d]!);
  const redCount = sizeOf(redShape);
  const keptShape = keptDims.map((d) => shape[d]!);
  const keptStrides = keptDims.map((d) => strides[d]!);
  const outCount = sizeOf(keptShape);
  const init = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;

  // Fast path: reducing exactly the trailing dims, so each output reads a contiguous run.
  const trailing = redDims.every((d, i) => d === rank - redDims.length + i);
  const kept = new Array<number>(keptDims.length).fill(0);
  const red = new Array<number>(redDims.length).fill(0);
  for (let o = 0; o < outCount; o++) {
    let base = 0;
    for (let j = 0; j < keptDims.length; j++) base += kept[j]! * keptStrides[j]!;
    let acc = init;
    if (trailing) {
      const end = base + redCount;
      if (op === 'sum') for (let i = base; i < end; i++) acc += x[i]!;
      else if (op === 'prod') for (let i = base; i < end; i++) acc *= x[i]!;
      else if (op === 'max') for (let i = base; i < end; i++) { const v = x[i]!; if (v > acc || v !== v) acc = v; if (acc !== acc) break; }
      else for (let i = base; i < end; i++) { const v = x[i]!; if (v < acc || v !== v) acc = v; if (acc !== acc) break; }
    } else {
      red.fill(0);
      for (let r = 0; r < redCount; r++) {
        let off = base;
        for (let j = 0; j < redDims.length; j++) off += red[j]! * redStrides[j]!;
        const v = x[off]!;
        if (op === 'sum') acc += v;
        else if (op === 'prod') acc *= v;
        else if (op === 'max') { if (v > acc || v !== v) acc = v; }
        else if (v < acc || v !== v) acc = v;
        for (let j = redDims.length - 1; j >= 0; j--) {
          if (++red[j]! < redShape[j]!) break;
          red[j] = 0;
        }
        if (acc !== acc && op !== 'sum' && op !== 'prod') break;
      }
    }
    out[o] = acc;
    for (let j = keptDims.length - 1; j >= 0; j--) {
      if (++kept[j]! < keptShape[j]!) break;
      kept[j] = 0;
    }
  }
}

export function argReduce(op: 'argmax' | 'argmin', x: TypedArray, shape: Shape, axis: number, out: Int32Array): void {
  const outer = sizeOf(shape.slice(0, axis));
  const len = shape[axis] ?? 1;
  const inner = sizeOf(shape.slice(axis + 1));
  const better = op === 'argmax' ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let best = x[base]!;
      let bestIdx = 0;
      for (let j = 1; j < len; j++) {
        const v = x[base + j * inner]!;
        // NaN wins, like torch.argmax.
        if (best !== best) break;
        if (better(v, best) || v !== v) {
          best = v;
          bestIdx = j;
        }
      }
      out[o * inner + i] = bestIdx;
    }
  }
}
