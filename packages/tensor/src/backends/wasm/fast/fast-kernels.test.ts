/**
 * Differential tests: every fast kernel against the reference kernel on the same random inputs
 * (odd, prime, empty and size-1 dims, every broadcast pattern, NaN/±Infinity, several dtypes).
 * The fast kernels do the same arithmetic in the same order, so results must be bit-identical
 * (NaN equals NaN, and +0/-0 are told apart).
 */
import { describe, expect, it } from 'vitest';
import type { BinaryOp, ReduceOp, UnaryOp, WindowGeometry } from '../../../backend.js';
import type { TypedArray } from '../../../dtype.js';
import { broadcastShapes, sizeOf } from '../../../shape.js';
import { referenceKernels as R } from '../../reference/index.js';
import { fastKernels } from './index.js';

const F = fastKernels as Required<typeof fastKernels>;

type Kind = 'f32' | 'f64' | 'i32' | 'u8';
const CTOR = { f32: Float32Array, f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;

/** xorshift32 in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 1, -1];

/** Random values for `kind`; floats get specials (NaN, ±Inf, ±0, halves) at rate `special`. */
function fill(kind: Kind, n: number, r: () => number, special = 0.1, integral = false): TypedArray {
  const a = new CTOR[kind](n);
  for (let i = 0; i < n; i++) {
    if (kind === 'u8') a[i] = r() < 0.5 ? 1 : 0;
    else if (kind === 'i32') a[i] = Math.floor(r() * 11) - 5;
    else if (r() < special) a[i] = SPECIAL[Math.floor(r() * SPECIAL.length)]!;
    else a[i] = integral ? Math.floor(r() * 7) - 3 : (r() - 0.5) * 6;
  }
  return a;
}

function same(actual: TypedArray, expected: TypedArray, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const x = actual[i]!;
    const y = expected[i]!;
    if (!(Object.is(x, y) || (x !== x && y !== y))) expect.fail(`${what}: element ${i}: got ${x}, expected ${y}`);
  }
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function randomShape(r: () => number, maxRank: number, dims: readonly number[] = [0, 1, 1, 2, 3, 5, 7]): number[] {
  const rank = Math.floor(r() * (maxRank + 1));
  return Array.from({ length: rank }, () => pick(r, dims));
}

/** A random pair of shapes that broadcast together. */
function broadcastPair(r: () => number): [number[], number[]] {
  const out = randomShape(r, 4, [1, 2, 3, 5, 7, 0]);
  const cut = (): number[] => {
    const s = out.map((d) => (r() < 0.4 ? 1 : d));
    return s.slice(r() < 0.3 ? Math.floor(r() * (s.length + 1)) : 0);
  };
  return [cut(), cut()];
}

const UNARY: Array<[UnaryOp, number, number]> = [
  ['neg', 0, 0], ['exp', 0, 0], ['log', 0, 0], ['log1p', 0, 0], ['expm1', 0, 0], ['sqrt', 0, 0], ['rsqrt', 0, 0],
  ['abs', 0, 0], ['sign', 0, 0], ['sin', 0, 0], ['cos', 0, 0], ['tanh', 0, 0], ['sigmoid', 0, 0], ['relu', 0, 0],
  ['erf', 0, 0], ['floor', 0, 0], ['ceil', 0, 0], ['round', 0, 0], ['reciprocal', 0, 0], ['square', 0, 0],
  ['logicalNot', 0, 0], ['leakyRelu', 0.1, 0], ['elu', 1.5, 0], ['softplus', 2, 20], ['softplus', 1, 0.5],
  ['clamp', -1, 2], ['clamp', -Infinity, 0.25], ['clamp', 0, Infinity], ['cast', 0, 0],
];
const KIND_PAIRS: Array<[Kind, Kind]> = [
  ['f32', 'f32'], ['f64', 'f64'], ['i32', 'f32'], ['i32', 'i32'], ['u8', 'u8'], ['f64', 'i32'], ['f32', 'u8'], ['f64', 'f32'], ['u8', 'f32'],
];

describe('fast unary', () => {
  it.each(UNARY)('%s (p0=%s, p1=%s) matches the reference for every dtype pair', (op, p0, p1) => {
    const r = rng(op.length * 97 + p1 + 3);
    for (const [ki, ko] of KIND_PAIRS) {
      for (const n of [0, 1, 7, 131]) {
        const x = fill(ki, n, r, 0.2);
        const a = new CTOR[ko](n);
        const b = new CTOR[ko](n);
        F.unary(op, x, a, p0, p1);
        R.unary(op, x, b, p0, p1);
        same(a, b, `${op} ${ki}->${ko} n=${n}`);
      }
    }
  });
});

const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'reluGrad'];
const FIXED_PAIRS: Array<[number[], number[]]> = [
  [[3, 4], [3, 4]], [[], []], [[0, 3], [0, 3]], [[5, 7], []], [[], [5, 7]], [[5, 7], [1]], [[1, 1], [4, 5]],
  [[6, 5], [5]], [[2, 3, 5], [5]], [[6, 5], [1, 5]], [[5], [6, 5]], [[6, 5], [6, 1]], [[6, 1], [6, 5]], [[2, 3, 5], [3, 1]],
  [[4, 1], [1, 5]], [[3, 1, 4], [1, 5, 1]], [[2, 1, 3, 1], [1, 4, 1, 5]], [[2, 3, 4], [2, 1, 4]], [[1], [3, 0]],
  [[2, 3], [0, 1, 3]], [[7, 1, 1], [1, 1, 3]], [[2, 2, 3, 2], [2, 1, 3, 1]],
];

describe('fast binary', () => {
  const r = rng(11);
  const pairs = [...FIXED_PAIRS, ...Array.from({ length: 40 }, () => broadcastPair(r))];
  it.each(BINARY)('%s matches the reference on every broadcast pattern and dtype', (op) => {
    const rr = rng(op.length * 31 + 1);
    const logical = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'].includes(op);
    const combos: Array<[Kind, Kind, Kind]> = [['f32', 'f32', 'f32'], ['f64', 'f64', 'f64'], ['i32', 'i32', 'i32'], ['u8', 'u8', 'u8'], ['i32', 'f64', 'f64']];
    for (const [sa, sb] of pairs) {
      const os = broadcastShapes(op, sa, sb);
      for (const [ka, kb, kOut] of combos) {
        const ko: Kind = logical ? 'u8' : kOut;
        // Integral floats make eq/ne/le/ge ties and exact pow results common.
        const a = fill(ka, sizeOf(sa), rr, 0.15, rr() < 0.5);
        const b = fill(kb, sizeOf(sb), rr, 0.15, rr() < 0.5);
        const x = new CTOR[ko](sizeOf(os));
        const y = new CTOR[ko](sizeOf(os));
        F.binary(op, a, sa, b, sb, x, os);
        R.binary(op, a, sa, b, sb, y, os);
        same(x, y, `${op} [${sa}] [${sb}] ${ka}/${kb}->${ko}`);
      }
    }
  });
});

describe('fast where', () => {
  it('matches the reference on broadcast triples', () => {
    const r = rng(5);
    const triples: Array<[number[], number[], number[]]> = [
      [[4, 5], [4, 5], [4, 5]], [[4, 5], [4, 5], []], [[4, 5], [], [4, 5]], [[4, 5], [5], [4, 1]], [[], [3, 2], [3, 2]],
      [[2, 1, 3], [1, 4, 1], [3]], [[0, 3], [3], [1]],
    ];
    for (let t = 0; t < 40; t++) {
      const [c, a] = broadcastPair(r);
      const b = pick(r, [c, a, [], [1], c.slice(1)]);
      triples.push([c, a, b]);
    }
    for (const [cs, as, bs] of triples) {
      const os = broadcastShapes('where', broadcastShapes('where', cs, as), bs);
      // Same-dtype operands take the bitwise select; u8 and mixed dtypes the plain loop.
      const combos: Array<[Kind, Kind, Kind]> = [['f32', 'f32', 'f32'], ['f64', 'f64', 'f64'], ['i32', 'i32', 'i32'], ['u8', 'u8', 'u8'], ['i32', 'f32', 'f32']];
      for (const [ka, kb, k] of combos) {
        const cond = fill('u8', sizeOf(cs), r) as Uint8Array;
        const a = fill(ka, sizeOf(as), r, 0.2);
        const b = fill(kb, sizeOf(bs), r, 0.2);
        const x = new CTOR[k](sizeOf(os));
        const y = new CTOR[k](sizeOf(os));
        F.where(cond, cs, a, as, b, bs, x, os);
        R.where(cond, cs, a, as, b, bs, y, os);
        same(x, y, `where [${cs}] [${as}] [${bs}] ${k}`);
      }
    }
  });
});

function keptShape(shape: number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

describe('fast reduce', () => {
  const ops: ReduceOp[] = ['sum', 'max', 'min', 'prod'];
  it.each(ops)('%s matches the reference over every axis subset', (op) => {
    const r = rng(op.length * 13 + 7);
    const cases: Array<[number[], number[]]> = [
      [[64, 33], [0]], [[64, 33], [1]], [[64, 33], [0, 1]], [[5, 7, 3], [1]], [[4, 6, 5], [0, 2]], [[3, 1, 5], [0]],
      [[2, 3, 4, 5], [0, 2, 3]], [[2, 3, 4, 5], [1, 3]], [[], []], [[4, 0, 3], [1]], [[4, 0, 3], [0]], [[1, 1], [0, 1]], [[6, 4], []],
    ];
    for (let t = 0; t < 60; t++) {
      const shape = randomShape(r, 4);
      const axes = shape.map((_, i) => i).filter(() => r() < 0.5);
      cases.push([shape, axes]);
    }
    for (const [shape, axes] of cases) {
      for (const k of ['f32', 'f64', 'i32'] as const) {
        for (const special of [0, 0.1]) {
          const x = fill(k, sizeOf(shape), r, special, r() < 0.3);
          const n = sizeOf(keptShape(shape, axes));
          const a = new CTOR[k](n);
          const b = new CTOR[k](n);
          F.reduce(op, x, shape, axes, a);
          R.reduce(op, x, shape, axes, b);
          same(a, b, `${op} [${shape}] axes [${axes}] ${k}`);
        }
      }
    }
  });

  it.each(['argmax', 'argmin'] as const)('%s matches the reference (ties, NaN) along every axis', (op) => {
    const r = rng(op === 'argmax' ? 3 : 4);
    const cases: Array<[number[], number]> = [[[64, 10], 1], [[64, 10], 0], [[3, 7, 5], 1], [[5], 0], [[3, 1, 4], 1], [[2, 0, 3], 1], [[0, 3], 1]];
    for (let t = 0; t < 50; t++) {
      const shape = randomShape(r, 4).map((d) => d || 1);
      if (shape.length === 0) shape.push(pick(r, [1, 4, 9]));
      cases.push([shape, Math.floor(r() * shape.length)]);
    }
    for (const [shape, axis] of cases) {
      for (const k of ['f32', 'f64', 'i32'] as const) {
        for (const special of [0, 0.15]) {
          const x = fill(k, sizeOf(shape), r, special, r() < 0.5);
          const n = sizeOf(shape.map((d, i) => (i === axis ? 1 : d)));
          const a = new Int32Array(n).fill(-7);
          const b = new Int32Array(n).fill(-7);
          F.argReduce(op, x, shape, axis, a);
          R.argReduce(op, x, shape, axis, b);
          same(a, b, `${op} [${shape}] axis ${axis} ${k}`);
        }
      }
    }
  });
});

/** A random strided view (shape, strides incl. 0 and negative, offset) over a buffer of `length`. */
function randomView(r: () => number, shape: number[]): { strides: number[]; offset: number; length: number } {
  const strides = shape.map(() => pick(r, [0, 1, 2, 3, -1, -2, 5, 9, -7]));
  let lo = 0;
  let hi = 0;
  shape.forEach((d, i) => {
    const span = strides[i]! * Math.max(d - 1, 0);
    if (span < 0) lo += span;
    else hi += span;
  });
  const extra = Math.floor(r() * 3);
  return { strides, offset: -lo + extra, length: hi - lo + extra + 1 + Math.floor(r() * 3) };
}

describe('fast movement', () => {
  const r = rng(21);
  const views: Array<{ shape: number[]; strides: number[]; offset: number; length: number }> = [
    { shape: [40, 37], strides: [1, 40], offset: 0, length: 1480 },
    { shape: [37, 40], strides: [-1, -37], offset: 1479, length: 1480 },
    { shape: [3, 70], strides: [70, 1], offset: 5, length: 300 },
    { shape: [3, 70], strides: [80, 1], offset: 0, length: 300 },
    { shape: [2, 3, 4], strides: [12, 1, 3], offset: 0, length: 24 },
    { shape: [4, 5], strides: [0, 1], offset: 2, length: 9 },
    { shape: [4, 5], strides: [1, 0], offset: 0, length: 4 },
    { shape: [], strides: [], offset: 3, length: 5 },
    { shape: [3, 0, 2], strides: [1, 1, 1], offset: 0, length: 4 },
    { shape: [200], strides: [1], offset: 7, length: 210 },
    { shape: [40, 33], strides: [0, 3], offset: 0, length: 97 },
    { shape: [33, 40], strides: [2, 0], offset: 0, length: 65 },
    { shape: [34, 35], strides: [1, 20], offset: 0, length: 714 },
  ];
  for (let t = 0; t < 60; t++) {
    const shape = randomShape(r, 4, [0, 1, 2, 3, 5, 7, 11]);
    views.push({ shape, ...randomView(r, shape) });
  }

  it('stridedCopy matches the reference (transposes, negative/zero strides, slices)', () => {
    for (const v of views) {
      for (const k of ['f32', 'f64', 'i32', 'u8'] as const) {
        const x = fill(k, v.length, r);
        const n = sizeOf(v.shape);
        const a = new CTOR[k](n);
        const b = new CTOR[k](n);
        F.stridedCopy(x, v.offset, v.shape, v.strides, a);
        R.stridedCopy(x, v.offset, v.shape, v.strides, b);
        same(a, b, `stridedCopy [${v.shape}] strides [${v.strides}] offset ${v.offset} ${k}`);
      }
    }
  });

  it('stridedAccumulate matches the reference (repeated targets round alike)', () => {
    for (const v of views) {
      for (const k of ['f32', 'f64', 'i32'] as const) {
        const src = fill(k, sizeOf(v.shape), r, 0.02);
        const a = fill(k, v.length, r, 0.02);
        const b = a.slice();
        F.stridedAccumulate(src, a, v.offset, v.shape, v.strides);
        R.stridedAccumulate(src, b, v.offset, v.shape, v.strides);
        same(a, b, `stridedAccumulate [${v.shape}] strides [${v.strides}] ${k}`);
      }
    }
  });

  /** x shape, dim, index shape (≤ x off `dim`) with indices into x's `dim`. */
  function gatherCase(): { xs: number[]; dim: number; is: number[]; index: Int32Array } {
    const rank = 1 + Math.floor(r() * 3);
    const xs = Array.from({ length: rank }, () => pick(r, [1, 2, 3, 5, 7]));
    const dim = Math.floor(r() * rank);
    const is = xs.map((d, i) => (i === dim ? pick(r, [0, 1, 2, 4, 6]) : Math.max(0, d - Math.floor(r() * 2))));
    const index = new Int32Array(sizeOf(is)).map(() => Math.floor(r() * xs[dim]!));
    return { xs, dim, is, index };
  }

  it('gather and scatterAdd match the reference', () => {
    for (let t = 0; t < 80; t++) {
      const { xs, dim, is, index } = gatherCase();
      for (const k of ['f32', 'f64', 'i32'] as const) {
        const x = fill(k, sizeOf(xs), r);
        const a = new CTOR[k](sizeOf(is));
        const b = new CTOR[k](sizeOf(is));
        F.gather(x, xs, dim, index, is, a);
        R.gather(x, xs, dim, index, is, b);
        same(a, b, `gather [${xs}] dim ${dim} index [${is}] ${k}`);
        const src = fill(k, sizeOf(is), r, 0.02);
        const c = fill(k, sizeOf(xs), r, 0.02);
        const d = c.slice();
        F.scatterAdd(c, xs, dim, index, is, src);
        R.scatterAdd(d, xs, dim, index, is, src);
        same(c, d, `scatterAdd [${xs}] dim ${dim} index [${is}] ${k}`);
      }
    }
  });

  it('indexSelect and indexAdd match the reference (whole-row copies, duplicates)', () => {
    const cases: Array<[number[], number]> = [[[50, 64], 0], [[50, 100], 0], [[3, 10, 70], 1], [[4, 9], 1], [[6], 0], [[0, 3], 1], [[5, 0], 0]];
    for (let t = 0; t < 40; t++) {
      const shape = randomShape(r, 3, [1, 2, 3, 5, 7, 65]).map((d) => d || 1);
      if (shape.length === 0) shape.push(4);
      cases.push([shape, Math.floor(r() * shape.length)]);
    }
    for (const [shape, dim] of cases) {
      const len = shape[dim]!;
      const m = len === 0 ? 0 : pick(r, [0, 1, 3, 8]);
      const index = new Int32Array(m).map(() => Math.floor(r() * len));
      const outShape = shape.map((d, i) => (i === dim ? m : d));
      for (const k of ['f32', 'f64', 'i32', 'u8'] as const) {
        const x = fill(k, sizeOf(shape), r);
        const a = new CTOR[k](sizeOf(outShape));
        const b = new CTOR[k](sizeOf(outShape));
        F.indexSelect(x, shape, dim, index, a);
        R.indexSelect(x, shape, dim, index, b);
        same(a, b, `indexSelect [${shape}] dim ${dim} ${k}`);
        if (k === 'u8') continue;
        const src = fill(k, sizeOf(outShape), r, 0.02);
        const c = fill(k, sizeOf(shape), r, 0.02);
        const d = c.slice();
        F.indexAdd(c, shape, dim, index, src);
        R.indexAdd(d, shape, dim, index, src);
        same(c, d, `indexAdd [${shape}] dim ${dim} ${k}`);
      }
    }
  });
});

/** A geometry with output sizes from the floor or ceil (PyTorch) rule. */
function geometry(
  batch: number, channels: number, inSize: number[], kernel: number[], stride: number[], pad: number[], dilation: number[],
  ceil = false, padEnd = pad,
): WindowGeometry {
  const outSize = inSize.map((n, i) => {
    const eff = dilation[i]! * (kernel[i]! - 1) + 1;
    const span = n + pad[i]! + padEnd[i]! - eff;
    if (!ceil) return Math.floor(span / stride[i]!) + 1;
    let o = Math.ceil(span / stride[i]!) + 1;
    if ((o - 1) * stride[i]! >= n + pad[i]!) o--;
    return o;
  });
  return { batch, channels, inSize, kernel, stride, padBegin: pad, padEnd, dilation, outSize };
}

function windowCases(): WindowGeometry[] {
  const r = rng(77);
  const gs: WindowGeometry[] = [
    geometry(2, 1, [28, 28], [5, 5], [1, 1], [2, 2], [1, 1]),
    geometry(2, 6, [14, 14], [5, 5], [1, 1], [0, 0], [1, 1]),
    geometry(2, 3, [28, 28], [2, 2], [2, 2], [0, 0], [1, 1]),
    geometry(1, 2, [7, 9], [3, 2], [2, 3], [1, 1], [2, 1]),
    geometry(1, 2, [7, 8], [3, 3], [2, 2], [1, 1], [1, 1], true),
    geometry(2, 2, [5, 6], [2, 3], [2, 2], [0, 1], [1, 1], true),
    geometry(1, 1, [6, 7], [3, 3], [1, 2], [1, 0], [1, 1], false, [2, 1]),
    geometry(2, 3, [11], [3], [2], [1], [2]),
    geometry(1, 2, [10], [4], [3], [2], [1], true),
    geometry(1, 2, [4, 5, 6], [2, 3, 2], [1, 2, 2], [1, 1, 0], [1, 1, 2]),
    geometry(0, 3, [5, 5], [3, 3], [1, 1], [1, 1], [1, 1]),
  ];
  while (gs.length < 60) {
    const n = 1 + Math.floor(r() * 3);
    const inSize = Array.from({ length: n }, () => 1 + Math.floor(r() * 9));
    const kernel = inSize.map(() => 1 + Math.floor(r() * 3));
    const stride = inSize.map(() => 1 + Math.floor(r() * 3));
    const dilation = inSize.map(() => 1 + Math.floor(r() * 2));
    const pad = kernel.map((k) => Math.floor(r() * (Math.floor(k / 2) + 1)));
    const g = geometry(1 + Math.floor(r() * 2), 1 + Math.floor(r() * 3), inSize, kernel, stride, pad, dilation, r() < 0.4);
    if (g.outSize.every((o) => o >= 1)) gs.push(g);
  }
  return gs;
}

const fmt = (g: WindowGeometry): string =>
  `in [${g.batch},${g.channels},${g.inSize}] k [${g.kernel}] s [${g.stride}] p [${g.padBegin}|${g.padEnd}] d [${g.dilation}] out [${g.outSize}]`;

describe('fast window kernels', () => {
  const cases = windowCases();
  const sizes = (g: WindowGeometry): { x: number; y: number; cols: number } => {
    const planes = g.batch * g.channels;
    return { x: planes * sizeOf(g.inSize), y: planes * sizeOf(g.outSize), cols: planes * sizeOf(g.kernel) * sizeOf(g.outSize) };
  };

  it('im2col and col2im match the reference', () => {
    const r = rng(1);
    for (const g of cases) {
      for (const k of ['f32', 'f64'] as const) {
        const n = sizes(g);
        const x = fill(k, n.x, r, 0.05) as Float32Array;
        const a = new CTOR[k](n.cols).fill(9);
        const b = new CTOR[k](n.cols).fill(-9);
        F.im2col(x, g, a);
        R.im2col(x, g, b);
        same(a, b, `im2col ${fmt(g)} ${k}`);
        const cols = fill(k, n.cols, r, 0.01) as Float32Array;
        const c = new CTOR[k](n.x);
        const d = new CTOR[k](n.x);
        F.col2im(cols, g, c);
        R.col2im(cols, g, d);
        same(c, d, `col2im ${fmt(g)} ${k}`);
      }
    }
  });

  it('maxPool (NaN, ties, -Infinity, padding) matches the reference', () => {
    const r = rng(2);
    for (const g of cases) {
      for (const k of ['f32', 'f64'] as const) {
        const n = sizes(g);
        const x = fill(k, n.x, r, 0.15, r() < 0.5) as Float32Array;
        const a = new CTOR[k](n.y);
        const b = new CTOR[k](n.y);
        const ia = new Int32Array(n.y);
        const ib = new Int32Array(n.y);
        F.maxPool(x, g, a, ia);
        R.maxPool(x, g, b, ib);
        same(a, b, `maxPool ${fmt(g)} ${k}`);
        same(ia, ib, `maxPool indices ${fmt(g)} ${k}`);
      }
    }
  });

  it('avgPool and avgPoolBackward match the reference (with and without padding in the count)', () => {
    const r = rng(3);
    for (const g of cases) {
      for (const k of ['f32', 'f64'] as const) {
        for (const include of [true, false]) {
          const n = sizes(g);
          const x = fill(k, n.x, r, 0.02) as Float32Array;
          const a = new CTOR[k](n.y);
          const b = new CTOR[k](n.y);
          F.avgPool(x, g, include, a);
          R.avgPool(x, g, include, b);
          same(a, b, `avgPool ${fmt(g)} include ${include} ${k}`);
          const dy = fill(k, n.y, r, 0) as Float32Array;
          const c = new CTOR[k](n.x);
          const d = new CTOR[k](n.x);
          F.avgPoolBackward(dy, g, include, c);
          R.avgPoolBackward(dy, g, include, d);
          same(c, d, `avgPoolBackward ${fmt(g)} include ${include} ${k}`);
        }
      }
    }
  });
});
