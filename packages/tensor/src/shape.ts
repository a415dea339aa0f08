/** Shape arithmetic shared by every op: sizes, strides, broadcasting and dim normalisation. */
export type Shape = readonly number[];

/** Number of elements of `shape` (1 for a 0-d shape). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** `[2,3]`, as error messages print shapes. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** True when both shapes have the same dims. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting of two shapes; throws naming `op` when they are incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `Kiln: ${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (dim ${i - rank}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of `shape` as if it had `target` shape (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const strides = stridesOf(shape);
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) {
    out[lead + i] = shape[i] === 1 && target[lead + i] !== 1 ? 0 : strides[i]!;
  }
  return out;
}

/** Resolves a possibly negative `dim` against `rank`; throws naming `op` when out of range. */
export function normalizeDim(op: string, dim: number, rank: number): number {
  const lo = rank === 0 ? -1 : -rank;
  const hi = rank === 0 ? 0 : rank - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new Error(`Kiln: ${op}: dim ${dim} is out of range for a tensor of rank ${rank} (expected ${lo}..${hi})`);
  }
  return dim < 0 ? dim + Math.max(rank, 1) : dim;
}

/** Normalises a dim list (or all dims when undefined), sorted and de-duplicated. */
export function normalizeDims(op: string, dims: number | readonly number[] | undefined, rank: number): number[] {
  if (dims === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = list.map((d) => normalizeDim(op, d, rank));
  const set = new Set(out);
  if (set.size !== out.length) throw new Error(`Kiln: ${op}: dim list ${formatShape(list)} repeats a dim`);
  return [...set].sort((x, y) => x - y);
}

/** Validates a user-given shape (non-negative integers) for `op`. */
export function checkShape(op: string, shape: Shape): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`Kiln: ${op}: invalid shape ${formatShape(shape)}`);
  }
  return [...shape];
}
