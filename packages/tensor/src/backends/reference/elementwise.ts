import type { BinaryOp, UnaryOp } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import { broadcastStrides, sizeOf, type Shape } from '../../shape.js';
import { BINARY_FN, UNARY_FN } from './scalar-math.js';

export function unary(op: UnaryOp, x: TypedArray, out: TypedArray, p0: number, p1: number): void {
  const n = x.length;
  switch (op) {
    // The hot ones get their own loops; the rest go through the scalar table.
    case 'relu':
      for (let i = 0; i < n; i++) out[i] = x[i]! > 0 ? x[i]! : 0;
      return;
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i]!;
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
      return;
    case 'cast':
      if (out instanceof Uint8Array) for (let i = 0; i < n; i++) out[i] = x[i] ? 1 : 0;
      else if (out instanceof Int32Array) for (let i = 0; i < n; i++) out[i] = Math.trunc(x[i]!);
      else out.set(x);
      return;
    default: {
      const f = UNARY_FN[op];
      for (let i = 0; i < n; i++) out[i] = f(x[i]!, p0, p1);
    }
  }
}

/** Visits every index of `shape` with the linear offsets into two broadcast operands. */
function forEachBroadcast(
  outShape: Shape,
  aStrides: number[],
  bStrides: number[],
  visit: (i: number, ia: number, ib: number) => void,
): void {
  const rank = outShape.length;
  const total = sizeOf(outShape);
  if (total === 0) return;
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  const inner = rank === 0 ? 1 : outShape[rank - 1]!;
  const sa = rank === 0 ? 0 : aStrides[rank - 1]!;
  const sb = rank === 0 ? 0 : bStrides[rank - 1]!;
  for (let i = 0; i < total; ) {
    for (let j = 0; j < inner; j++, i++) visit(i, ia + j * sa, ib + j * sb);
    // Carry into the outer dims.
    let d = rank - 2;
    for (; d >= 0; d--) {
      idx[d]!++;
      ia += aStrides[d]!;
      ib += bStrides[d]!;
      if (idx[d]! < outShape[d]!) break;
      ia -= aStrides[d]! * outShape[d]!;
      ib -= bStrides[d]! * outShape[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}

export function binary(
  op: BinaryOp, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape,
): void {
  const n = out.length;
  const f = BINARY_FN[op];
  if (a.length === n && b.length === n) {
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
        return;
      case 'sub':
        for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
        return;
      case 'div':
        for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!;
        return;
      default:
        for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
        return;
    }
  }
  if (b.length === 1 && a.length === n) {
    const s = b[0]!;
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = a[i]! + s;
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = a[i]! * s;
        return;
      default:
        for (let i = 0; i < n; i++) out[i] = f(a[i]!, s);
        return;
    }
  }
  if (a.length === 1 && b.length === n) {
    const s = a[0]!;
    for (let i = 0; i < n; i++) out[i] = f(s, b[i]!);
    return;
  }
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  forEachBroadcast(outShape, as, bs, (i, ia, ib) => {
    out[i] = f(a[ia]!, b[ib]!);
  });
}

export function where(
  cond: Uint8Array, condShape: Shape, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape,
  out: TypedArray, outShape: Shape,
): void {
  const n = out.length;
  if (cond.length === n && a.length === n && (b.length === n || b.length === 1)) {
    if (b.length === n) for (let i = 0; i < n; i++) out[i] = cond[i] ? a[i]! : b[i]!;
    else {
      const s = b[0]!;
      for (let i = 0; i < n; i++) out[i] = cond[i] ? a[i]! : s;
    }
    return;
  }
  if (cond.length === n && b.length === n && a.length === 1) {
    const s = a[0]!;
    for (let i = 0; i < n; i++) out[i] = cond[i] ? s : b[i]!;
    return;
  }
  const cs = broadcastStrides(condShape, outShape);
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  const rank = outShape.length;
  const total = sizeOf(outShape);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < total; i++) {
    let ic = 0;
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ic += idx[d]! * cs[d]!;
      ia += idx[d]! * as[d]!;
      ib += idx[d]! * bs[d]!;
    }
    out[i] = cond[ic] ? a[ia]! : b[ib]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
}
