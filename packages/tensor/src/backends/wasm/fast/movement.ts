/**
 * Fast data-movement kernels. Strided copies collapse their dims first (plan.ts), so a
 * contiguous slice is one `set`, a slice of whole rows is one inner loop per row, and a 2-D
 * transpose is copied in cache-sized tiles. Accumulating kernels (stridedAccumulate,
 * scatterAdd, indexAdd) keep the reference's visiting order so repeated targets round the same.
 */
import type { TypedArray } from '../../../dtype.js';
import { stridesOf, type Shape } from '../../../shape.js';
import { collapseDims } from './plan.js';

type A = TypedArray;

/** Runs at or above this length are copied with subarray/set instead of an element loop. */
const SET_MIN = 64;
/** Tile edge for 2-D transposed copies. */
const TILE = 32;

function copyRun(x: A, from: number, step: number, out: A, to: number, len: number): void {
  if (step === 1) {
    if (len >= SET_MIN) out.set(x.subarray(from, from + len), to);
    else for (let end = to + len; to < end; to++, from++) out[to] = x[from]!;
  } else {
    for (let end = to + len; to < end; to++, from += step) out[to] = x[from]!;
  }
}

export function stridedCopy(x: A, offset: number, shape: Shape, strides: readonly number[], out: A): void {
  const n = out.length;
  if (n === 0) return;
  const plan = collapseDims(shape, [strides]);
  const dims = plan.shape;
  const st = plan.strides[0]!;
  const rank = dims.length;
  const inner = dims[rank - 1]!;
  const si = st[rank - 1]!;
  if (rank === 1) return copyRun(x, offset, si, out, 0, inner);
  if (rank === 2) {
    const rows = dims[0]!;
    const so = st[0]!;
    if (si !== 1 && rows >= TILE && inner >= TILE) {
      // Transpose-like: walk TILE×TILE blocks so reads and writes both stay in cache.
      for (let r0 = 0; r0 < rows; r0 += TILE) {
        const r1 = Math.min(rows, r0 + TILE);
        for (let c0 = 0; c0 < inner; c0 += TILE) {
          const c1 = Math.min(inner, c0 + TILE);
          for (let r = r0; r < r1; r++) {
            let src = offset + r * so + c0 * si;
            for (let c = r * inner + c0, end = r * inner + c1; c < end; c++, src += si) out[c] = x[src]!;
          }
        }
      }
      return;
    }
    for (let r = 0; r < rows; r++) copyRun(x, offset + r * so, si, out, r * inner, inner);
    return;
  }
  const idx = new Array<number>(rank - 1).fill(0);
  let off = offset;
  for (let io = 0; io < n; io += inner) {
    copyRun(x, off, si, out, io, inner);
    for (let d = rank - 2; d >= 0; d--) {
      off += st[d]!;
      if (++idx[d]! < dims[d]!) break;
      off -= st[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

export function stridedAccumulate(src: A, out: A, offset: number, shape: Shape, strides: readonly number[]): void {
  const n = src.length;
  if (n === 0) return;
  const plan = collapseDims(shape, [strides]);
  const dims = plan.shape;
  const st = plan.strides[0]!;
  const rank = dims.length;
  const inner = dims[rank - 1]!;
  const si = st[rank - 1]!;
  if (rank === 2 && si !== 1 && dims[0]! >= TILE && inner >= TILE) {
    const rows = dims[0]!;
    const so = st[0]!;
    const as = Math.abs(so);
    const ai = Math.abs(si);
    // Transpose-like and free of repeated targets (each dim's span clears the other's step), so
    // the order of additions cannot matter: walk TILE×TILE blocks.
    if (as > 0 && ai > 0 && (ai >= as * rows || as >= ai * inner)) {
      for (let r0 = 0; r0 < rows; r0 += TILE) {
        const r1 = Math.min(rows, r0 + TILE);
        for (let c0 = 0; c0 < inner; c0 += TILE) {
          const c1 = Math.min(inner, c0 + TILE);
          for (let r = r0; r < r1; r++) {
            let o = offset + r * so + c0 * si;
            for (let i = r * inner + c0, end = r * inner + c1; i < end; i++, o += si) out[o] = out[o]! + src[i]!;
          }
        }
      }
      return;
    }
  }
  const idx = new Array<number>(rank - 1).fill(0);
  let off = offset;
  for (let i = 0; i < n; ) {
    if (si === 0 && (out instanceof Float32Array || out instanceof Float64Array)) {
      // A broadcast inner dim: a running sum into one target, rounded per step like the reference.
      let acc = out[off]!;
      if (out instanceof Float32Array) for (let end = i + inner; i < end; i++) acc = Math.fround(acc + src[i]!);
      else for (let end = i + inner; i < end; i++) acc = acc + src[i]!;
      out[off] = acc;
    } else {
      for (let end = i + inner, o = off; i < end; i++, o += si) out[o] = out[o]! + src[i]!;
    }
    for (let d = rank - 2; d >= 0; d--) {
      off += st[d]!;
      if (++idx[d]! < dims[d]!) break;
      off -= st[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * Visits index positions row by row: `row(i, base, len)` for each run of the last dim, where
 * `base` is Σ idx_d·xStrides[d] over the outer dims except `dim`.
 */
function forEachIndexRow(shape: Shape, xStrides: readonly number[], dim: number, row: (i: number, base: number, len: number) => void): void {
  const rank = shape.length;
  let total = 1;
  for (const s of shape) total *= s;
  if (total === 0) return;
  if (rank === 0) {
    row(0, 0, 1);
    return;
  }
  const inner = shape[rank - 1]!;
  const idx = new Array<number>(rank - 1).fill(0);
  const step = xStrides.map((s, d) => (d === dim ? 0 : s));
  let base = 0;
  for (let i = 0; i < total; i += inner) {
    row(i, base, inner);
    for (let d = rank - 2; d >= 0; d--) {
      base += step[d]!;
      if (++idx[d]! < shape[d]!) break;
      base -= step[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

export function gather(x: A, xShape: Shape, dim: number, index: Int32Array, indexShape: Shape, out: A): void {
  if (indexShape.length === 2) {
    // 2-D (a loss picking each row's target class: index [N, 1] on dim 1) in one flat loop, not
    // a call per row of the index.
    const [rows, cols] = indexShape as [number, number];
    const xc = xShape[1]!;
    for (let i = 0, k = 0; i < rows; i++) {
      if (dim === 1) for (let end = k + cols, b = i * xc; k < end; k++) out[k] = x[b + index[k]!]!;
      else for (let j = 0; j < cols; j++, k++) out[k] = x[index[k]! * xc + j]!;
    }
    return;
  }
  const xs = stridesOf(xShape);
  const rank = indexShape.length;
  const ds = xs[dim] ?? 0;
  const is = rank > 0 && dim !== rank - 1 ? xs[rank - 1]! : 0;
  forEachIndexRow(indexShape, xs, dim, (i, base, len) => {
    for (let end = i + len, b = base; i < end; i++, b += is) out[i] = x[b + index[i]! * ds]!;
  });
}

export function scatterAdd(out: A, outShape: Shape, dim: number, index: Int32Array, indexShape: Shape, src: A): void {
  if (indexShape.length === 2) {
    // 2-D (the gradient of a loss's pick), as gather; the same visiting order as below.
    const [rows, cols] = indexShape as [number, number];
    const oc = outShape[1]!;
    for (let i = 0, k = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++, k++) {
        const o = dim === 1 ? i * oc + index[k]! : index[k]! * oc + j;
        out[o] = out[o]! + src[k]!;
      }
    }
    return;
  }
  const os = stridesOf(outShape);
  const rank = indexShape.length;
  const ds = os[dim] ?? 0;
  const is = rank > 0 && dim !== rank - 1 ? os[rank - 1]! : 0;
  forEachIndexRow(indexShape, os, dim, (i, base, len) => {
    for (let end = i + len, b = base; i < end; i++, b += is) {
      const o = b + index[i]! * ds;
      out[o] = out[o]! + src[i]!;
    }
  });
}

/** [outer, dim, inner] factorisation of a shape around `dim`. */
function around(shape: Shape, dim: number): [number, number, number] {
  let outer = 1;
  for (let d = 0; d < dim; d++) outer *= shape[d]!;
  let inner = 1;
  for (let d = dim + 1; d < shape.length; d++) inner *= shape[d]!;
  return [outer, shape[dim] ?? 1, inner];
}

export function indexSelect(x: A, xShape: Shape, dim: number, index: Int32Array, out: A): void {
  const [outer, len, inner] = around(xShape, dim);
  const m = index.length;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const src = o * len;
      const dst = o * m;
      for (let j = 0; j < m; j++) out[dst + j] = x[src + index[j]!]!;
    }
    return;
  }
  // Whole rows (an embedding lookup when dim = 0).
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) copyRun(x, (o * len + index[j]!) * inner, 1, out, (o * m + j) * inner, inner);
  }
}

export function indexAdd(out: A, outShape: Shape, dim: number, index: Int32Array, src: A): void {
  const [outer, len, inner] = around(outShape, dim);
  const m = index.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const dst = (o * len + index[j]!) * inner;
      for (let t = 0, from = (o * m + j) * inner; t < inner; t++, from++) out[dst + t] = out[dst + t]! + src[from]!;
    }
  }
}
