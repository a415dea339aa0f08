/**
 * Fast elementwise kernels in TypeScript: the op is chosen once, outside the loop, and every op
 * has its own loop so V8 compiles each to straight-line code. Results match the reference
 * (backends/reference/elementwise.ts, scalar-math.ts) bit for bit: the same scalar formulas,
 * written into the same typed arrays.
 *
 * Binary ops and `where` run over a collapsed broadcast plan (plan.ts): same-shape and scalar
 * operands are one flat loop; row broadcasts ([M, n] with [n]) and column broadcasts ([M, n]
 * with [M, 1]) are M calls of the inner loop; anything else iterates its outer dims with
 * carried offsets.
 *
 * Sign- and mask-dependent branches mispredict half the time on real activations, so the hot
 * ones avoid them: float32 relu works on the bit patterns, comparisons write Number(bool), and
 * `where` over same-dtype operands is a bitwise select on 32-bit words.
 */
import type { BinaryOp, UnaryOp } from '../../../backend.js';
import type { TypedArray } from '../../../dtype.js';
import { broadcastStrides, type Shape } from '../../../shape.js';
import { erf } from '../../reference/scalar-math.js';
import { collapseDims } from './plan.js';

type A = TypedArray;

export function unary(op: UnaryOp, x: A, out: A, p0: number, p1: number): void {
  const n = x.length;
  let i = 0;
  switch (op) {
    case 'neg': for (; i < n; i++) out[i] = -x[i]!; return;
    case 'exp': for (; i < n; i++) out[i] = Math.exp(x[i]!); return;
    case 'log': for (; i < n; i++) out[i] = Math.log(x[i]!); return;
    case 'log1p': for (; i < n; i++) out[i] = Math.log1p(x[i]!); return;
    case 'expm1': for (; i < n; i++) out[i] = Math.expm1(x[i]!); return;
    case 'sqrt': for (; i < n; i++) out[i] = Math.sqrt(x[i]!); return;
    case 'rsqrt': for (; i < n; i++) out[i] = 1 / Math.sqrt(x[i]!); return;
    case 'abs': for (; i < n; i++) out[i] = Math.abs(x[i]!); return;
    case 'sign':
      for (; i < n; i++) {
        const v = x[i]!;
        out[i] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : NaN;
      }
      return;
    case 'sin': for (; i < n; i++) out[i] = Math.sin(x[i]!); return;
    case 'cos': for (; i < n; i++) out[i] = Math.cos(x[i]!); return;
    case 'tanh': for (; i < n; i++) out[i] = Math.tanh(x[i]!); return;
    case 'sigmoid':
      for (; i < n; i++) {
        const v = x[i]!;
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      return;
    case 'relu':
      if (x instanceof Float32Array && out instanceof Float32Array) return reluF32(x, out);
      for (; i < n; i++) {
        const v = x[i]!;
        out[i] = v > 0 ? v : 0;
      }
      return;
    case 'erf': for (; i < n; i++) out[i] = erf(x[i]!); return;
    case 'floor': for (; i < n; i++) out[i] = Math.floor(x[i]!); return;
    case 'ceil': for (; i < n; i++) out[i] = Math.ceil(x[i]!); return;
    case 'round':
      // Half to even, as in scalar-math.ts.
      for (; i < n; i++) {
        const v = x[i]!;
        const r = Math.round(v);
        out[i] = Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
      }
      return;
    case 'reciprocal': for (; i < n; i++) out[i] = 1 / x[i]!; return;
    case 'square':
      for (; i < n; i++) {
        const v = x[i]!;
        out[i] = v * v;
      }
      return;
    case 'logicalNot': for (; i < n; i++) out[i] = x[i] ? 0 : 1; return;
    case 'leakyRelu':
      for (; i < n; i++) {
        const v = x[i]!;
        out[i] = v > 0 ? v : v * p0;
      }
      return;
    case 'elu':
      for (; i < n; i++) {
        const v = x[i]!;
        out[i] = v > 0 ? v : p0 * Math.expm1(v);
      }
      return;
    case 'softplus':
      for (; i < n; i++) {
        const v = x[i]!;
        out[i] = v * p0 > p1 ? v : Math.log1p(Math.exp(p0 * v)) / p0;
      }
      return;
    case 'clamp':
      for (; i < n; i++) {
        const v = x[i]!;
        out[i] = v < p0 ? p0 : v > p1 ? p1 : v;
      }
      return;
    case 'cast':
      if (out instanceof Uint8Array) for (; i < n; i++) out[i] = x[i] ? 1 : 0;
      else if (out instanceof Int32Array) for (; i < n; i++) out[i] = Math.trunc(x[i]!);
      else out.set(x);
      return;
  }
}

/**
 * relu on float32 bit patterns, without a data-dependent branch (random signs mispredict half
 * the time): a set sign bit gives +0, as does NaN, exactly as `v > 0 ? v : 0`.
 */
function reluF32(x: Float32Array, out: Float32Array): void {
  const xi = new Int32Array(x.buffer, x.byteOffset, x.length);
  const oi = new Int32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0, n = xi.length; i < n; i++) {
    // Bits in (0, +Infinity's] are exactly the values > 0; a 0/−1 mask keeps them, with no branch.
    const m = xi[i]!;
    oi[i] = m & -Number((m - 1) >>> 0 < 0x7f800000);
  }
}

/**
 * relu's backward on float32 bit patterns, branch-free like reluF32: dy passes where x > 0 (x's
 * bits in (0, +Infinity's]; NaN and negatives fail), else +0, exactly as `x > 0 ? dy : 0`.
 */
function reluGradF32(dy: Float32Array, x: Float32Array, out: Float32Array): void {
  const di = new Int32Array(dy.buffer, dy.byteOffset, dy.length);
  const xi = new Int32Array(x.buffer, x.byteOffset, x.length);
  const oi = new Int32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0, n = oi.length; i < n; i++) {
    // (x − 1) as unsigned is below 0x7f800000 exactly for bits 1 … 0x7f800000.
    oi[i] = di[i]! & -Number((xi[i]! - 1) >>> 0 < 0x7f800000);
  }
}

/**
 * out[o] = a[ia] ∘ b[ib] for `len` consecutive outputs from `io`, stepping the inputs by `sa`
 * and `sb` (0 for a broadcast operand, 1 for a contiguous one, anything else in general). The
 * arithmetic ops also get single-index loops for the row-bias (1, 1) and channel-bias (1, 0) steps.
 */
type Segment = (a: A, ia: number, sa: number, b: A, ib: number, sb: number, out: A, io: number, len: number) => void;

const SEGMENT: { [K in BinaryOp]: Segment } = {
  add(a, ia, sa, b, ib, sb, out, io, len) {
    if (sa === 1 && sb === 1) for (let j = 0; j < len; j++) out[io + j] = a[ia + j]! + b[ib + j]!;
    else if (sa === 1 && sb === 0) { const s = b[ib]!; for (let j = 0; j < len; j++) out[io + j] = a[ia + j]! + s; }
    else for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = a[ia]! + b[ib]!;
  },
  sub(a, ia, sa, b, ib, sb, out, io, len) {
    if (sa === 1 && sb === 1) for (let j = 0; j < len; j++) out[io + j] = a[ia + j]! - b[ib + j]!;
    else if (sa === 1 && sb === 0) { const s = b[ib]!; for (let j = 0; j < len; j++) out[io + j] = a[ia + j]! - s; }
    else for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = a[ia]! - b[ib]!;
  },
  mul(a, ia, sa, b, ib, sb, out, io, len) {
    if (sa === 1 && sb === 1) for (let j = 0; j < len; j++) out[io + j] = a[ia + j]! * b[ib + j]!;
    else if (sa === 1 && sb === 0) { const s = b[ib]!; for (let j = 0; j < len; j++) out[io + j] = a[ia + j]! * s; }
    else for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = a[ia]! * b[ib]!;
  },
  div(a, ia, sa, b, ib, sb, out, io, len) {
    if (sa === 1 && sb === 1) for (let j = 0; j < len; j++) out[io + j] = a[ia + j]! / b[ib + j]!;
    else if (sa === 1 && sb === 0) { const s = b[ib]!; for (let j = 0; j < len; j++) out[io + j] = a[ia + j]! / s; }
    else for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = a[ia]! / b[ib]!;
  },
  pow(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = Math.pow(a[ia]!, b[ib]!);
  },
  maximum(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) {
      const u = a[ia]!;
      const v = b[ib]!;
      out[o] = u !== u || v !== v ? NaN : u > v ? u : v;
    }
  },
  minimum(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) {
      const u = a[ia]!;
      const v = b[ib]!;
      out[o] = u !== u || v !== v ? NaN : u < v ? u : v;
    }
  },
  eq(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = Number(a[ia]! === b[ib]!);
  },
  ne(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = Number(a[ia]! !== b[ib]!);
  },
  lt(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = Number(a[ia]! < b[ib]!);
  },
  le(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = Number(a[ia]! <= b[ib]!);
  },
  gt(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = Number(a[ia]! > b[ib]!);
  },
  ge(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = Number(a[ia]! >= b[ib]!);
  },
  logicalAnd(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = a[ia]! && b[ib]! ? 1 : 0;
  },
  logicalOr(a, ia, sa, b, ib, sb, out, io, len) {
    for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = a[ia]! || b[ib]! ? 1 : 0;
  },
  reluGrad(a, ia, sa, b, ib, sb, out, io, len) {
    if (sa === 1 && sb === 1) for (let j = 0; j < len; j++) out[io + j] = b[ib + j]! > 0 ? a[ia + j]! : 0;
    else for (let o = io, end = io + len; o < end; o++, ia += sa, ib += sb) out[o] = b[ib]! > 0 ? a[ia]! : 0;
  },
};

/**
 * Whole-array loops for arithmetic and comparisons: same shape (`mode` 0), scalar b (1) or
 * scalar a (2). One index and a hoisted scalar let V8 drop the extra induction variables.
 */
type Flat = (a: A, b: A, out: A, n: number, mode: number) => void;

type FlatOp = 'add' | 'sub' | 'mul' | 'div' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

const FLAT: { [K in FlatOp]: Flat } = {
  add(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = a[i]! + s; }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = s + b[i]!; }
  },
  sub(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = a[i]! - s; }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = s - b[i]!; }
  },
  mul(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = a[i]! * s; }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = s * b[i]!; }
  },
  div(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!;
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = a[i]! / s; }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = s / b[i]!; }
  },  eq(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = Number(a[i]! === b[i]!);
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = Number(a[i]! === s); }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = Number(s === b[i]!); }
  },
  ne(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = Number(a[i]! !== b[i]!);
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = Number(a[i]! !== s); }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = Number(s !== b[i]!); }
  },
  lt(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = Number(a[i]! < b[i]!);
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = Number(a[i]! < s); }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = Number(s < b[i]!); }
  },
  le(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = Number(a[i]! <= b[i]!);
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = Number(a[i]! <= s); }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = Number(s <= b[i]!); }
  },
  gt(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = Number(a[i]! > b[i]!);
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = Number(a[i]! > s); }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = Number(s > b[i]!); }
  },
  ge(a, b, out, n, mode) {
    if (mode === 0) for (let i = 0; i < n; i++) out[i] = Number(a[i]! >= b[i]!);
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) out[i] = Number(a[i]! >= s); }
    else { const s = a[0]!; for (let i = 0; i < n; i++) out[i] = Number(s >= b[i]!); }
  },
};

export function binary(op: BinaryOp, a: A, aShape: Shape, b: A, bShape: Shape, out: A, outShape: Shape): void {
  const n = out.length;
  if (n === 0) return;
  const seg = SEGMENT[op];
  const na = a.length;
  const nb = b.length;
  const mode = na === n && nb === n ? 0 : na === n && nb === 1 ? 1 : na === 1 && nb === n ? 2 : -1;
  if (op === 'reluGrad' && mode === 0 && a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array) {
    return reluGradF32(a, b, out);
  }
  if (mode >= 0 && op in FLAT) return FLAT[op as FlatOp](a, b, out, n, mode);
  if (na === n && nb === n) return seg(a, 0, 1, b, 0, 1, out, 0, n);
  if (na === n && nb === 1) return seg(a, 0, 1, b, 0, 0, out, 0, n);
  if (na === 1 && nb === n) return seg(a, 0, 0, b, 0, 1, out, 0, n);
  const plan = collapseDims(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
  const shape = plan.shape;
  const [as, bs] = plan.strides as [number[], number[]];
  const rank = shape.length;
  const inner = shape[rank - 1]!;
  const sa = as[rank - 1]!;
  const sb = bs[rank - 1]!;
  if (rank === 1) return seg(a, 0, sa, b, 0, sb, out, 0, inner);
  if (rank === 2) {
    // Row broadcast ([M, n] ∘ [n]), column broadcast ([M, n] ∘ [M, 1]) and outer products.
    const rows = shape[0]!;
    const ra = as[0]!;
    const rb = bs[0]!;
    for (let r = 0, ia = 0, ib = 0, io = 0; r < rows; r++, ia += ra, ib += rb, io += inner) seg(a, ia, sa, b, ib, sb, out, io, inner);
    return;
  }
  const idx = new Array<number>(rank - 1).fill(0);
  let ia = 0;
  let ib = 0;
  for (let io = 0; io < n; io += inner) {
    seg(a, ia, sa, b, ib, sb, out, io, inner);
    for (let d = rank - 2; d >= 0; d--) {
      ia += as[d]!;
      ib += bs[d]!;
      if (++idx[d]! < shape[d]!) break;
      ia -= as[d]! * shape[d]!;
      ib -= bs[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** out[o] = cond[ic] ? a[ia] : b[ib] over `len` outputs with per-operand steps. */
function whereSegment(
  cond: Uint8Array, ic: number, sc: number, a: A, ia: number, sa: number, b: A, ib: number, sb: number, out: A, io: number, len: number,
): void {
  for (let o = io, end = io + len; o < end; o++, ic += sc, ia += sa, ib += sb) out[o] = cond[ic] ? a[ia]! : b[ib]!;
}

/**
 * The same on 32-bit words (`words` per element: 1 for float32/int32, 2 for float64), as a
 * bitwise select: a random mask would mispredict a branch half the time. Bits are copied, so
 * the result is exactly the chosen element.
 */
function whereWords(
  cond: Uint8Array, ic: number, sc: number, a: Int32Array, ia: number, sa: number, b: Int32Array, ib: number, sb: number,
  out: Int32Array, io: number, len: number, words: number,
): void {
  if (words === 1 && sc === 1 && sa === 1 && sb <= 1) {
    // Contiguous cond and a (the relu-backward shape: where(mask, dy, 0)); b contiguous or scalar.
    if (sb === 1) {
      for (let j = 0; j < len; j++) {
        const c = cond[ic + j]!;
        const m = (c | -c) >> 31;
        out[io + j] = (a[ia + j]! & m) | (b[ib + j]! & ~m);
      }
    } else {
      const s = b[ib]!;
      for (let j = 0; j < len; j++) {
        const c = cond[ic + j]!;
        const m = (c | -c) >> 31;
        out[io + j] = (a[ia + j]! & m) | (s & ~m);
      }
    }
    return;
  }
  if (words === 1) {
    for (let o = io, end = io + len; o < end; o++, ic += sc, ia += sa, ib += sb) {
      const c = cond[ic]!;
      const m = (c | -c) >> 31;
      out[o] = (a[ia]! & m) | (b[ib]! & ~m);
    }
    return;
  }
  for (let o = 2 * io, end = 2 * (io + len), pa = 2 * ia, pb = 2 * ib; o < end; o += 2, ic += sc, pa += 2 * sa, pb += 2 * sb) {
    const c = cond[ic]!;
    const m = (c | -c) >> 31;
    out[o] = (a[pa]! & m) | (b[pb]! & ~m);
    out[o + 1] = (a[pa + 1]! & m) | (b[pb + 1]! & ~m);
  }
}

const words = (t: A): Int32Array => new Int32Array(t.buffer, t.byteOffset, t.byteLength >> 2);

export function where(
  cond: Uint8Array, condShape: Shape, a: A, aShape: Shape, b: A, bShape: Shape, out: A, outShape: Shape,
): void {
  const n = out.length;
  if (n === 0) return;
  const plan = collapseDims(outShape, [
    broadcastStrides(condShape, outShape), broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape),
  ]);
  const shape = plan.shape;
  const [cs, as, bs] = plan.strides as [number[], number[], number[]];
  const rank = shape.length;
  const inner = shape[rank - 1]!;
  const sc = cs[rank - 1]!;
  const sa = as[rank - 1]!;
  const sb = bs[rank - 1]!;
  const kind = out.constructor;
  const w = a.constructor === kind && b.constructor === kind ? out.BYTES_PER_ELEMENT >> 2 : 0;
  const [a32, b32, o32] = w > 0 ? [words(a), words(b), words(out)] : [null, null, null];
  const idx = new Array<number>(rank - 1).fill(0);
  let ic = 0;
  let ia = 0;
  let ib = 0;
  for (let io = 0; io < n; io += inner) {
    if (o32) whereWords(cond, ic, sc, a32!, ia, sa, b32!, ib, sb, o32, io, inner, w);
    else whereSegment(cond, ic, sc, a, ia, sa, b, ib, sb, out, io, inner);
    for (let d = rank - 2; d >= 0; d--) {
      ic += cs[d]!;
      ia += as[d]!;
      ib += bs[d]!;
      if (++idx[d]! < shape[d]!) break;
      ic -= cs[d]! * shape[d]!;
      ia -= as[d]! * shape[d]!;
      ib -= bs[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}
