import type { TypedArray } from '../../dtype.js';
import { sizeOf, stridesOf, type Shape } from '../../shape.js';

/** Calls visit(i, off) for each row-major index i of `shape` and its strided offset. */
function forEachStrided(offset: number, shape: Shape, strides: readonly number[], visit: (i: number, off: number) => void): void {
  const rank = shape.length;
  const total = sizeOf(shape);
  if (total === 0) return;
  if (rank === 0) {
    visit(0, offset);
    return;
  }
  const idx = new Array<number>(rank).fill(0);
  const inner = shape[rank - 1]!;
  const si = strides[rank - 1]!;
  let off = offset;
  for (let i = 0; i < total; ) {
    for (let j = 0; j < inner; j++, i++) visit(i, off + j * si);
    let d = rank - 2;
    for (; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}

export function stridedCopy(x: TypedArray, offset: number, shape: Shape, strides: readonly number[], out: TypedArray): void {
  forEachStrided(offset, shape, strides, (i, off) => {
    out[i] = x[off]!;
  });
}

export function stridedAccumulate(src: TypedArray, out: TypedArray, offset: number, shape: Shape, strides: readonly number[]): void {
  forEachStrided(offset, shape, strides, (i, off) => {
    out[off] = out[off]! + src[i]!;
  });
}

/** [outer, dim, inner] factorisation of a shape around `dim`. */
function around(shape: Shape, dim: number): [number, number, number] {
  return [sizeOf(shape.slice(0, dim)), shape[dim] ?? 1, sizeOf(shape.slice(dim + 1))];
}

export function gather(x: TypedArray, xShape: Shape, dim: number, index: Int32Array, indexShape: Shape, out: TypedArray): void {
  const xs = stridesOf(xShape);
  forEachIndex(indexShape, (i, idx) => {
    let off = 0;
    for (let d = 0; d < idx.length; d++) off += (d === dim ? index[i]! : idx[d]!) * xs[d]!;
    out[i] = x[off]!;
  });
}

export function scatterAdd(out: TypedArray, outShape: Shape, dim: number, index: Int32Array, indexShape: Shape, src: TypedArray): void {
  const os = stridesOf(outShape);
  forEachIndex(indexShape, (i, idx) => {
    let off = 0;
    for (let d = 0; d < idx.length; d++) off += (d === dim ? index[i]! : idx[d]!) * os[d]!;
    out[off] = out[off]! + src[i]!;
  });
}

export function indexSelect(x: TypedArray, xShape: Shape, dim: number, index: Int32Array, out: TypedArray): void {
  const [outer, len, inner] = around(xShape, dim);
  const m = index.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = (o * len + index[j]!) * inner;
      const dst = (o * m + j) * inner;
      for (let t = 0; t < inner; t++) out[dst + t] = x[src + t]!;
    }
  }
}

export function indexAdd(out: TypedArray, outShape: Shape, dim: number, index: Int32Array, src: TypedArray): void {
  const [outer, len, inner] = around(outShape, dim);
  const m = index.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const dst = (o * len + index[j]!) * inner;
      const from = (o * m + j) * inner;
      for (let t = 0; t < inner; t++) out[dst + t] = out[dst + t]! + src[from + t]!;
    }
  }
}

function forEachIndex(shape: Shape, visit: (i: number, idx: number[]) => void): void {
  const total = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < total; i++) {
    visit(i, idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}
