/**
 * Fast reductions. The reference folds each output in a JavaScript number (float64) in the
 * row-major order of its reduced sub-box and writes once; these kernels keep that order and that
 * precision, so results are bit-identical, but pick the memory order per pattern:
 * - all axes / trailing axes: each output folds a contiguous run;
 * - a middle or leading block ([outer, R, inner] with inner > 1, e.g. the bias gradient
 *   [M, n] → [1, n]): rows are folded into a float64 scratch row, one contiguous row at a time;
 * - anything else: per output, the reduced box with its innermost dim as a strided inner loop.
 * Max/min follow the reference's NaN rule (a NaN anywhere wins; ties keep the first value).
 */
import type { ReduceOp } from '../../../backend.js';
import type { TypedArray } from '../../../dtype.js';
import { stridesOf, type Shape } from '../../../shape.js';
import { collapseDims } from './plan.js';

type A = TypedArray;

const INIT: { [K in ReduceOp]: number } = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/** Folds x[start + j·step] for j < count into acc. */
type Fold = (x: A, start: number, count: number, step: number, acc: number) => number;

const FOLD: { [K in ReduceOp]: Fold } = {
  sum(x, start, count, step, acc) {
    if (step === 1) for (let i = start, end = start + count; i < end; i++) acc += x[i]!;
    else for (let j = 0, i = start; j < count; j++, i += step) acc += x[i]!;
    return acc;
  },
  prod(x, start, count, step, acc) {
    for (let j = 0, i = start; j < count; j++, i += step) acc *= x[i]!;
    return acc;
  },
  max(x, start, count, step, acc) {
    for (let j = 0, i = start; j < count; j++, i += step) {
      const v = x[i]!;
      if (v > acc || v !== v) acc = v;
      if (acc !== acc) break;
    }
    return acc;
  },
  min(x, start, count, step, acc) {
    for (let j = 0, i = start; j < count; j++, i += step) {
      const v = x[i]!;
      if (v < acc || v !== v) acc = v;
      if (acc !== acc) break;
    }
    return acc;
  },
};

/** acc[t] ∘= x[start + t] for t < len (one row of a row-by-row reduction). */
type RowFold = (x: A, start: number, acc: Float64Array, len: number) => void;

const ROW_FOLD: { [K in ReduceOp]: RowFold } = {
  sum(x, start, acc, len) {
    for (let t = 0; t < len; t++) acc[t] = acc[t]! + x[start + t]!;
  },
  prod(x, start, acc, len) {
    for (let t = 0; t < len; t++) acc[t] = acc[t]! * x[start + t]!;
  },
  max(x, start, acc, len) {
    for (let t = 0; t < len; t++) {
      const v = x[start + t]!;
      if (v > acc[t]! || v !== v) acc[t] = v;
    }
  },
  min(x, start, acc, len) {
    for (let t = 0; t < len; t++) {
      const v = x[start + t]!;
      if (v < acc[t]! || v !== v) acc[t] = v;
    }
  },
};

/** out[o] = fold of the contiguous run x[o·run, (o+1)·run), for every o. */
type RunFold = (x: A, run: number, out: A) => void;

const RUN_FOLD: { [K in ReduceOp]: RunFold } = {
  sum(x, run, out) {
    for (let o = 0, base = 0, n = x.length; base < n; o++) {
      let acc = 0;
      for (const end = base + run; base < end; base++) acc += x[base]!;
      out[o] = acc;
    }
  },
  prod(x, run, out) {
    for (let o = 0, base = 0, n = x.length; base < n; o++) {
      let acc = 1;
      for (const end = base + run; base < end; base++) acc *= x[base]!;
      out[o] = acc;
    }
  },
  max(x, run, out) {
    for (let o = 0, base = 0, n = x.length; base < n; o++, base += run) {
      let acc = -Infinity;
      for (let i = base, end = base + run; i < end; i++) {
        const v = x[i]!;
        if (v > acc || v !== v) acc = v;
        if (acc !== acc) break;
      }
      out[o] = acc;
    }
  },
  min(x, run, out) {
    for (let o = 0, base = 0, n = x.length; base < n; o++, base += run) {
      let acc = Infinity;
      for (let i = base, end = base + run; i < end; i++) {
        const v = x[i]!;
        if (v < acc || v !== v) acc = v;
        if (acc !== acc) break;
      }
      out[o] = acc;
    }
  },
};

/** x as [outer, rows, len]: out[o, t] = fold over rows of x[o, ·, t], one contiguous row at a time. */
function foldRows(op: ReduceOp, x: A, outer: number, rows: number, len: number, out: A): void {
  const init = INIT[op];
  const rowFold = ROW_FOLD[op];
  const acc = new Float64Array(len);
  for (let o = 0; o < outer; o++) {
    acc.fill(init);
    const base = o * rows * len;
    for (let j = 0; j < rows; j++) rowFold(x, base + j * len, acc, len);
    out.set(acc, o * len);
  }
}

export function reduce(op: ReduceOp, x: A, shape: Shape, axes: readonly number[], out: A): void {
  const init = INIT[op];
  if (x.length === 0) {
    out.fill(init);
    return;
  }
  const rank = shape.length;
  const nAxes = axes.length;
  // Cheap checks first (small tensors are dominated by set-up): trailing or leading axes.
  let trailing = true;
  let leading = nAxes > 0;
  for (let j = 0; j < nAxes; j++) {
    if (axes[j] !== rank - nAxes + j) trailing = false;
    if (axes[j] !== j) leading = false;
  }
  if (trailing) {
    let run = 1;
    for (let d = rank - nAxes; d < rank; d++) run *= shape[d]!;
    return RUN_FOLD[op](x, run, out);
  }
  if (leading) {
    let rows = 1;
    for (let d = 0; d < nAxes; d++) rows *= shape[d]!;
    return foldRows(op, x, 1, rows, x.length / rows, out);
  }
  const isReduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) isReduced[a] = true;
  // Strides of x restricted to the reduced dims, and to the kept dims (0 elsewhere): collapsing
  // with both keeps reduced and kept dims apart.
  const strides = stridesOf(shape);
  const red = strides.map((s, d) => (isReduced[d] ? s : 0));
  const kept = strides.map((s, d) => (isReduced[d] ? 0 : s));
  const plan = collapseDims(shape, [red, kept]);
  const dims = plan.shape;
  const [rs, ks] = plan.strides as [number[], number[]];
  const r = dims.length;
  const isRed = rs.map((s) => s !== 0);
  const fold = FOLD[op];

  // All reduced, or reduced dims trailing one kept block: contiguous runs.
  if (r === 1 || (r === 2 && !isRed[0] && isRed[1])) return RUN_FOLD[op](x, r === 1 && !isRed[0] ? 1 : dims[r - 1]!, out);
  // [R, K] or [K1, R, K2]: fold contiguous rows into a float64 scratch row.
  if (r === 2 && isRed[0]) return foldRows(op, x, 1, dims[0]!, dims[1]!, out);
  if (r === 3 && !isRed[0] && isRed[1]) return foldRows(op, x, dims[0]!, dims[1]!, dims[2]!, out);
  // General: per output, fold the reduced box; its innermost reduced dim is the inner loop.
  const keptDims: number[] = [];
  const redDims: number[] = [];
  for (let d = 0; d < r; d++) (isRed[d] ? redDims : keptDims).push(d);
  const nk = keptDims.length;
  const nr = redDims.length;
  const kShape = keptDims.map((d) => dims[d]!);
  const kStride = keptDims.map((d) => ks[d]!);
  const rShape = redDims.map((d) => dims[d]!);
  const rStride = redDims.map((d) => rs[d]!);
  const innerLen = rShape[nr - 1]!;
  const innerStep = rStride[nr - 1]!;
  let outerRed = 1;
  for (let j = 0; j < nr - 1; j++) outerRed *= rShape[j]!;
  let outs = 1;
  for (const s of kShape) outs *= s;
  const kIdx = new Array<number>(nk).fill(0);
  const rIdx = new Array<number>(nr).fill(0);
  let base = 0;
  for (let o = 0; o < outs; o++) {
    let acc = init;
    let off = base;
    rIdx.fill(0);
    for (let q = 0; q < outerRed; q++) {
      acc = fold(x, off, innerLen, innerStep, acc);
      for (let j = nr - 2; j >= 0; j--) {
        off += rStride[j]!;
        if (++rIdx[j]! < rShape[j]!) break;
        off -= rStride[j]! * rShape[j]!;
        rIdx[j] = 0;
      }
    }
    out[o] = acc;
    for (let j = nk - 1; j >= 0; j--) {
      base += kStride[j]!;
      if (++kIdx[j]! < kShape[j]!) break;
      base -= kStride[j]! * kShape[j]!;
      kIdx[j] = 0;
    }
  }
}

export function argReduce(op: 'argmax' | 'argmin', x: A, shape: Shape, axis: number, out: Int32Array): void {
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  const len = shape[axis] ?? 1;
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  if (outer * inner === 0) return;
  if (len === 0) {
    out.fill(0);
    return;
  }
  const max = op === 'argmax';
  if (inner === 1) {
    // Along contiguous rows. The first NaN wins; otherwise the first extreme value.
    for (let o = 0; o < outer; o++) {
      const base = o * len;
      let best = x[base]!;
      let bestIdx = 0;
      if (max) {
        for (let j = 1; j < len && best === best; j++) {
          const v = x[base + j]!;
          if (v > best || v !== v) { best = v; bestIdx = j; }
        }
      } else {
        for (let j = 1; j < len && best === best; j++) {
          const v = x[base + j]!;
          if (v < best || v !== v) { best = v; bestIdx = j; }
        }
      }
      out[o] = bestIdx;
    }
    return;
  }
  // Across rows: running best per column, one contiguous row at a time.
  const best = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    const base = o * len * inner;
    for (let t = 0; t < inner; t++) {
      best[t] = x[base + t]!;
      out[ob + t] = 0;
    }
    for (let j = 1; j < len; j++) {
      const row = base + j * inner;
      if (max) {
        for (let t = 0; t < inner; t++) {
          const b = best[t]!;
          const v = x[row + t]!;
          if (b === b && (v > b || v !== v)) { best[t] = v; out[ob + t] = j; }
        }
      } else {
        for (let t = 0; t < inner; t++) {
          const b = best[t]!;
          const v = x[row + t]!;
          if (b === b && (v < b || v !== v)) { best[t] = v; out[ob + t] = j; }
        }
      }
    }
  }
}
