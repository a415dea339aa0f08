/**
 * Movement ops. Views (reshape and friends) share the buffer. Every other movement is one
 * strided read of the input — permute, expand, slice and flip differ only in the shape,
 * strides and offset they read with — so one kernel pair (stridedCopy and its adjoint,
 * stridedAccumulate) carries all of them and all of their gradients.
 */
import { kernels } from '../backend.js';
import { allocate, promoteTypes } from '../dtype.js';
import {
  broadcastShapes, formatShape, normalizeDim, normalizeDims, shapesEqual, sizeOf, stridesOf, type Shape,
} from '../shape.js';
import { Tensor } from '../tensor.js';
import { composite } from '../trace.js';
import { empty, finish, uninitialized } from './core.js';
import { where } from './elementwise.js';
import { indexSelect } from './indexing.js';

export const sameShape = shapesEqual;

export function dimIndex(op: string, dim: number, rank: number): number {
  return normalizeDim(op, dim, rank);
}

/** True when `from` broadcasts to exactly `to`. */
export function broadcastsInto(from: Shape, to: Shape): boolean {
  try {
    return shapesEqual(broadcastShapes('broadcast', from, to), to);
  } catch {
    return false;
  }
}

/** Accepts `f(2, 3)` and `f([2, 3])` alike. */
export function shapeArgs(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

/**
 * Reads `x` through (shape, strides, offset) into a new contiguous tensor (the copy writes every
 * element, so the output is not zeroed first). The gradient scatters back by accumulation into a
 * zeroed buffer, since an expand or slice may map several outputs to one input, or none; a
 * permutation maps them one to one, so `permute` passes `inverse` instead: its gradient is the
 * inverse read of `g`, a plain copy.
 */
function stridedRead(
  op: string, x: Tensor, shape: number[], strides: number[], offset: number, attrs: Record<string, unknown>,
  inverse?: { strides: number[] },
): Tensor {
  const out = uninitialized(shape, x.dtype);
  kernels().stridedCopy(x._data, offset, shape, strides, out._data);
  return finish(out, op, [x], attrs, (g) => {
    if (inverse) {
      const gx = uninitialized(x.shape, g.dtype);
      kernels().stridedCopy(g._data, 0, x.shape, inverse.strides, gx._data);
      return [gx];
    }
    const gx = empty(x.shape, g.dtype);
    kernels().stridedAccumulate(g._data, gx._data, offset, shape, strides);
    return [gx];
  });
}

/** A view of `x` with another shape and the same buffer. */
function view(op: string, x: Tensor, shape: number[], attrs: Record<string, unknown>): Tensor {
  const out = new Tensor(x._data, shape, x.dtype);
  return finish(out, op, [x], attrs, (g) => [new Tensor(g._data, x.shape, g.dtype)]);
}

/** A copy of `x` that stays on the graph. */
export function clone(x: Tensor): Tensor {
  const out = empty(x.shape, x.dtype);
  out._data.set(x._data);
  return finish(out, 'identity', [x], {}, (g) => [g]);
}

/** Same data, new shape; one dim may be -1 (inferred). Shares the buffer. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = [...shape];
  const inferred = target.indexOf(-1);
  if (inferred !== target.lastIndexOf(-1)) throw new Error(`Kiln: reshape: only one dim can be -1, got ${formatShape(shape)}`);
  for (const d of target) {
    if (!Number.isInteger(d) || d < -1) throw new Error(`Kiln: reshape: invalid target shape ${formatShape(shape)}`);
  }
  if (inferred >= 0) {
    const known = sizeOf(target.filter((d) => d !== -1));
    if (known === 0 || x.numel() % known !== 0) {
      throw new Error(`Kiln: reshape: cannot reshape ${formatShape(x.shape)} (${x.numel()} elements) into ${formatShape(shape)}`);
    }
    target[inferred] = x.numel() / known;
  }
  if (sizeOf(target) !== x.numel()) {
    throw new Error(`Kiln: reshape: cannot reshape ${formatShape(x.shape)} (${x.numel()} elements) into ${formatShape(shape)}`);
  }
  return view('reshape', x, target, { shape: target });
}

/** Merges dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return view('flatten', x, [1], { startDim: 0, endDim: 0 });
  const s = normalizeDim('flatten', startDim, x.ndim);
  const e = normalizeDim('flatten', endDim, x.ndim);
  if (s > e) throw new Error(`Kiln: flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return view('flatten', x, shape, { startDim: s, endDim: e });
}

/** Splits dim `dim` into `sizes` (one may be -1). */
export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  const d = normalizeDim('unflatten', dim, x.ndim);
  const parts = [...sizes];
  const free = parts.indexOf(-1);
  if (free >= 0) parts[free] = x.shape[d]! / sizeOf(parts.filter((p) => p !== -1));
  if (sizeOf(parts) !== x.shape[d] || !parts.every(Number.isInteger)) {
    throw new Error(`Kiln: unflatten: sizes ${formatShape(sizes)} do not multiply to dim ${dim} of ${formatShape(x.shape)}`);
  }
  return reshape(x, [...x.shape.slice(0, d), ...parts, ...x.shape.slice(d + 1)]);
}

/** Removes size-1 dims (all of them, or those listed). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const dims = dim === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeDims('squeeze', dim, x.ndim);
  const shape = x.shape.filter((d, i) => !(dims.includes(i) && d === 1));
  return view('squeeze', x, shape, { dims: dims.filter((i) => x.shape[i] === 1) });
}

/** Inserts a size-1 dim at `dim` (−ndim−1 ≤ dim ≤ ndim). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape.slice(0, d), 1, ...x.shape.slice(d)];
  return view('unsqueeze', x, shape, { dims: [d] });
}

/** Reorders dims: out.shape[i] = x.shape[dims[i]]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(`Kiln: permute: expected ${x.ndim} dims for shape ${formatShape(x.shape)}, got ${formatShape(dims)}`);
  }
  const perm = dims.map((d) => normalizeDim('permute', d, x.ndim));
  if (new Set(perm).size !== perm.length) throw new Error(`Kiln: permute: dims ${formatShape(dims)} repeat a dim`);
  if (perm.every((p, i) => p === i)) return x;
  const strides = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  // Dim perm[i] of x is dim i of the output, so x's dim j sits at stride gStrides[i] of the
  // gradient, where perm[i] = j.
  const gStrides = stridesOf(shape);
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => { inverse[p] = gStrides[i]!; });
  return stridedRead('permute', x, shape, perm.map((p) => strides[p]!), 0, { perm }, { strides: inverse });
}

/** Swaps two dims. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeDim('transpose', dim0, x.ndim);
  const b = normalizeDim('transpose', dim1, x.ndim);
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}

/** Broadcasts to `shape` (new leading dims allowed; -1 keeps a dim). Copies the data. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new Error(`Kiln: expand: target ${formatShape(shape)} has fewer dims than ${formatShape(x.shape)}`);
  const target = shape.map((d, i) => (d === -1 ? (i < lead ? NaN : x.shape[i - lead]!) : d));
  const strides = stridesOf(x.shape);
  const outStrides: number[] = [];
  for (let i = 0; i < target.length; i++) {
    const src = i < lead ? 1 : x.shape[i - lead]!;
    const t = target[i]!;
    if (!Number.isInteger(t) || t < 0 || (src !== 1 && src !== t)) {
      throw new Error(`Kiln: expand: cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}`);
    }
    outStrides.push(i < lead || (src === 1 && t !== 1) ? 0 : strides[i - lead]!);
  }
  if (shapesEqual(target, x.shape)) return x;
  return stridedRead('expand', x, target, outStrides, 0, { shape: target });
}

/** Elements start, start+step, … < end along `dim` (Python slice rules: negatives count from the end, bounds clamp). */
export function slice(x: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor {
  const d = normalizeDim('slice', dim, x.ndim);
  if (!Number.isInteger(step) || step < 1) throw new Error(`Kiln: slice: step must be a positive integer, got ${step}`);
  const n = x.shape[d]!;
  const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = start === undefined ? 0 : clampIndex(start);
  const e = end === undefined ? n : clampIndex(end);
  const len = Math.max(0, Math.ceil((e - s) / step));
  const strides = stridesOf(x.shape);
  const shape = [...x.shape];
  shape[d] = len;
  const outStrides = [...strides];
  outStrides[d] = strides[d]! * step;
  if (len === n) return x;
  return stridedRead('slice', x, shape, outStrides, s * strides[d]!, { dim: d, start: s, end: e, step });
}

/** `length` elements from `start` along `dim`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim('narrow', dim, x.ndim);
  const n = x.shape[d]!;
  const s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s + length > n) {
    throw new Error(`Kiln: narrow: start ${start} and length ${length} do not fit dim ${dim} of size ${n}`);
  }
  return slice(x, d, s, s + length);
}

/** Reverses the order along each of `dims`. */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const list = normalizeDims('flip', dims, x.ndim);
  const strides = stridesOf(x.shape);
  let offset = 0;
  const outStrides = [...strides];
  for (const d of list) {
    if (x.shape[d]! > 0) offset += (x.shape[d]! - 1) * strides[d]!;
    outStrides[d] = -strides[d]!;
  }
  return stridedRead('flip', x, [...x.shape], outStrides, offset, { dims: list });
}

/** Concatenates along `dim`; all other dims must match. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!tensors.length) throw new Error('Kiln: cat: expected a non-empty list of tensors');
  const first = tensors[0]!;
  if (first.ndim === 0) throw new Error('Kiln: cat: zero-dimensional tensors cannot be concatenated (use stack, or unsqueeze them first)');
  const d = normalizeDim('cat', dim, first.ndim);
  let dtype = first.dtype;
  let total = 0;
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new Error(
        `Kiln: cat: tensor ${i} has shape ${formatShape(t.shape)}, which does not match ${formatShape(first.shape)} outside dim ${d}`,
      );
    }
    dtype = promoteTypes(dtype, t.dtype);
    total += t.shape[d]!;
  });
  const shape = [...first.shape];
  shape[d] = total;
  const out = empty(shape, dtype);
  const strides = stridesOf(shape);
  const offsets: number[] = [];
  let at = 0;
  for (const t of tensors) {
    offsets.push(at * strides[d]!);
    const src = t.dtype === dtype ? t : t.to(dtype);
    kernels().stridedAccumulate(src._data, out._data, at * strides[d]!, t.shape, strides);
    at += t.shape[d]!;
  }
  return finish(out, 'cat', tensors, { dim: d }, (g) =>
    tensors.map((t, i) => {
      const part = empty(t.shape, g.dtype);
      kernels().stridedCopy(g._data, offsets[i]!, t.shape, strides, part._data);
      return t.dtype === g.dtype ? part : part.to(t.dtype);
    }),
  );
}

/** Stacks equal-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!tensors.length) throw new Error('Kiln: stack: expected a non-empty list of tensors');
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!shapesEqual(t.shape, first.shape)) {
      throw new Error(`Kiln: stack: tensor ${i} has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)}`);
    }
  });
  const d = normalizeDim('stack', dim, first.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** Splits along `dim` into pieces of `size` (the last may be smaller) or of the listed sizes. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normalizeDim('split', dim, x.ndim);
  const n = x.shape[d]!;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections < 1) {
      throw new Error(`Kiln: split: size must be a positive integer, got ${sizeOrSections}`);
    }
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - s));
    if (!sizes.length) sizes.push(0);
  } else {
    sizes = [...sizeOrSections];
    if (sizes.reduce((a, b) => a + b, 0) !== n) {
      throw new Error(`Kiln: split: sizes ${formatShape(sizes)} do not add up to dim ${dim} of size ${n}`);
    }
  }
  const out: Tensor[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(slice(x, d, at, at + s));
    at += s;
  }
  return out;
}

/** Splits into `chunks` pieces of ⌈n/chunks⌉ along `dim` (fewer when it does not divide). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks < 1) throw new Error(`Kiln: chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normalizeDim('chunk', dim, x.ndim);
  return split(x, Math.max(1, Math.ceil(x.shape[d]! / chunks)), d);
}

/** Tiles the tensor `repeats[i]` times along dim i (torch.Tensor.repeat). */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length < x.ndim) {
    throw new Error(`Kiln: repeat: expected at least ${x.ndim} repeats for shape ${formatShape(x.shape)}, got ${repeats.length}`);
  }
  const lead = repeats.length - x.ndim;
  const shape = [...new Array<number>(lead).fill(1), ...x.shape];
  return composite('repeat', [x], { repeats: [...repeats] }, () => {
    const interleaved = shape.flatMap((s) => [1, s]);
    const expanded = shape.flatMap((s, i) => [repeats[i]!, s]);
    return reshape(expand(reshape(x, interleaved), expanded), shape.map((s, i) => s * repeats[i]!));
  });
}

function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  if (x.ndim < 2) throw new Error(`Kiln: ${op}: expected at least 2 dims, got shape ${formatShape(x.shape)}`);
  const rows = x.shape[x.ndim - 2]!;
  const cols = x.shape[x.ndim - 1]!;
  const keep = allocate('bool', rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) keep[i * cols + j] = (op === 'tril' ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
  }
  const mask = new Tensor(keep, [rows, cols], 'bool');
  return composite(op, [x], { diagonal }, () => where(mask, x, 0));
}

/** Keeps the lower triangle (j − i ≤ diagonal) of the last two dims, zeroing the rest. */
export const tril = (x: Tensor, diagonal = 0): Tensor => triangle('tril', x, diagonal);
/** Keeps the upper triangle (j − i ≥ diagonal) of the last two dims, zeroing the rest. */
export const triu = (x: Tensor, diagonal = 0): Tensor => triangle('triu', x, diagonal);

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * Pads with `pads` in PyTorch's order: (left, right) of the last dim first, then the dim
 * before it. Negative amounts crop. Modes: constant (`value`), reflect (mirror without the
 * edge), replicate (repeat the edge), circular (wrap around).
 */
export function pad(x: Tensor, pads: readonly number[], mode: PadMode = 'constant', value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new Error(`Kiln: pad: expected an even number of pads, at most 2 per dim of ${formatShape(x.shape)}, got ${formatShape(pads)}`);
  }
  const before = new Array<number>(x.ndim).fill(0);
  const after = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    before[d] = pads[2 * i]!;
    after[d] = pads[2 * i + 1]!;
  }
  const shape = x.shape.map((s, d) => s + before[d]! + after[d]!);
  if (shape.some((s) => s < 0)) throw new Error(`Kiln: pad: pads ${formatShape(pads)} crop ${formatShape(x.shape)} below zero`);
  return composite('pad', [x], { pads: [...pads], mode, value, before, after }, () => {
    if (mode === 'constant') return padConstant(x, before, after, value);
    let y = x;
    for (let d = 0; d < x.ndim; d++) {
      if (before[d] === 0 && after[d] === 0) continue;
      const n = y.shape[d]!;
      if (mode === 'reflect' && (before[d]! >= n || after[d]! >= n)) {
        throw new Error(`Kiln: pad: reflect padding of ${before[d]}/${after[d]} needs dim ${d} longer than that, it has size ${n}`);
      }
      if (n === 0) throw new Error(`Kiln: pad: ${mode} padding of an empty dim ${d}`);
      const idx = new Int32Array(n + before[d]! + after[d]!);
      for (let i = 0; i < idx.length; i++) {
        const j = i - before[d]!;
        if (mode === 'replicate') idx[i] = Math.min(Math.max(j, 0), n - 1);
        else if (mode === 'circular') idx[i] = ((j % n) + n) % n;
        else {
          const period = 2 * (n - 1);
          const r = period === 0 ? 0 : ((j % period) + period) % period;
          idx[i] = r < n ? r : period - r;
        }
      }
      y = indexSelect(y, d, new Tensor(idx, [idx.length], 'int32'));
    }
    return y;
  });
}

function padConstant(x: Tensor, before: number[], after: number[], value: number): Tensor {
  // Negative pads crop first; what remains pads with non-negative amounts.
  let y = x;
  for (let d = 0; d < x.ndim; d++) {
    if (before[d]! < 0 || after[d]! < 0) {
      y = slice(y, d, Math.max(0, -before[d]!), y.shape[d]! - Math.max(0, -after[d]!));
    }
  }
  const lo = before.map((b) => Math.max(b, 0));
  const shape = y.shape.map((s, d) => s + lo[d]! + Math.max(after[d]!, 0));
  const strides = stridesOf(shape);
  const offset = lo.reduce((acc, b, d) => acc + b * strides[d]!, 0);
  const out = empty(shape, y.dtype);
  kernels().stridedAccumulate(y._data, out._data, offset, y.shape, strides);
  if (value !== 0) {
    // Mark the interior, then write `value` everywhere else.
    const inside = allocate('bool', out.numel());
    kernels().stridedAccumulate(allocate('bool', y.numel()).fill(1), inside, offset, y.shape, strides);
    const data = out._data;
    for (let i = 0; i < data.length; i++) if (!inside[i]) data[i] = value;
  }
  const src = y;
  return finish(out, 'padConstant', [src], { before: lo, value }, (g) => {
    const gx = empty(src.shape, g.dtype);
    kernels().stridedCopy(g._data, offset, src.shape, strides, gx._data);
    return [gx];
  });
}
