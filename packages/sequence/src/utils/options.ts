/** Validation shared by the recurrent layers: sizes and lengths (option objects: @kiln/tensor's checkOptions). */
import { Generator, Tensor } from '@kiln/tensor';

/** Throws unless `v` is a positive integer (or ≥ `min`). */
export function checkCount(layer: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`Kiln: ${layer}: ${name} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

/** A generator option: any other object would fail at the first random draw (init or dropout) with a bare TypeError. */
export const generatorKind = (v: unknown): string | null => (v instanceof Generator ? null : 'a Generator');

/** A lengths option: an array, a typed array or a 1-d integer tensor. */
export const lengthsKind = (v: unknown): string | null =>
  (Array.isArray(v) || ArrayBuffer.isView(v) || v instanceof Tensor ? null : 'an array of lengths or a 1-d tensor');

export const shapeStr = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Per-sequence lengths as numbers (from an array or an integer tensor), each in 1..T. */
export function checkLengths(layer: string, lengths: ArrayLike<number> | Tensor, batch: number, T: number, inputShape: readonly number[]): number[] {
  let list: number[];
  if (lengths instanceof Tensor) {
    if (lengths.ndim !== 1) throw new Error(`Kiln: ${layer}: lengths must be a 1-d tensor of ${batch}, got shape ${shapeStr(lengths.shape)}`);
    list = Array.from(lengths.dataSync(), Number);
  } else {
    list = Array.from(lengths);
  }
  if (list.length !== batch) {
    throw new Error(`Kiln: ${layer}: lengths has ${list.length} entries but the batch has ${batch} (input ${shapeStr(inputShape)})`);
  }
  list.forEach((l, b) => {
    if (!Number.isInteger(l) || l < 1 || l > T) {
      throw new Error(`Kiln: ${layer}: lengths[${b}] = ${l} must be in 1..${T} (the sequence length of input ${shapeStr(inputShape)})`);
    }
  });
  return list;
}
