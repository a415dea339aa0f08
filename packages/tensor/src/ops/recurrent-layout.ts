/**
 * Batch-first recurrences (`batchFirst` in ops/recurrent.ts): the kernels run time-major
 * `[T, B, n]` with rows sorted by length, so a batch-first input is rearranged once on the way in
 * and the output (and the gradients) on the way out, inside the op. Done here, row by row, it
 * replaces a transpose on each side of the op, their strided copies and the tape nodes of their
 * backward (strided accumulation into zeroed arrays).
 */
import { allocate } from '../dtype.js';

type Float = Float32Array | Float64Array;

/** Rows at least this long are copied with typed-array `set` (memcpy), shorter ones element by element. */
const SET_MIN = 32;

function copyRow(src: Float, from: number, dst: Float, to: number, n: number): void {
  if (n >= SET_MIN) {
    dst.set(src.subarray(from, from + n), to);
    return;
  }
  for (let k = 0; k < n; k++) dst[to + k] = src[from + k]!;
}

/**
 * `[B, T, n]` in the caller's row order → `[T, B, n]` whose row i is the caller's row `perm[i]`
 * (the length-sorted order; `perm` null: the same order).
 */
export function toTimeMajor(src: Float, B: number, T: number, n: number, perm: Int32Array | null): Float {
  const out = allocate(src instanceof Float64Array ? 'float64' : 'float32', T * B * n) as Float;
  for (let i = 0; i < B; i++) {
    const b = perm ? perm[i]! : i;
    for (let t = 0; t < T; t++) copyRow(src, (b * T + t) * n, out, (t * B + i) * n, n);
  }
  return out;
}

/**
 * `[T, B, n]` in the sorted order → `[B, T, n]` in the caller's order (the caller's row b is
 * sorted row `inv[b]`; `inv` null: the same order), written into `out` when given.
 */
export function toBatchFirst(src: Float, T: number, B: number, n: number, inv: Int32Array | null, out?: Float): Float {
  const dst = out ?? (allocate(src instanceof Float64Array ? 'float64' : 'float32', T * B * n) as Float);
  for (let b = 0; b < B; b++) {
    const i = inv ? inv[b]! : b;
    for (let t = 0; t < T; t++) copyRow(src, (t * B + i) * n, dst, (b * T + t) * n, n);
  }
  return dst;
}
