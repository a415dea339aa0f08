/** Reading and checking the integer length arguments of the CTC functions. */
import { Tensor } from '@kiln/tensor';

/** Integer lengths as given (`Tensor`, array or, unbatched, a number). */
export type CTCLengths = Tensor | ArrayLike<number> | number;

export function shapeOf(t: Tensor): string {
  return `[${t.shape.join(',')}]`;
}

/** Reads a lengths argument as N integers, or throws naming it. */
export function readLengths(FN: string, name: string, v: CTCLengths, n: number, unbatched: boolean): number[] {
  let out: number[];
  if (v instanceof Tensor) {
    if (v.dtype !== 'int32') throw new Error(`Kiln: ${FN}: ${name} must hold integers (an int32 Tensor or an array), got a ${v.dtype} Tensor ${shapeOf(v)}`);
    if (v.ndim > 1 || (unbatched ? v.numel() !== 1 : v.ndim !== 1)) {
      throw new Error(`Kiln: ${FN}: ${name} must have shape [${n}]${unbatched ? ' or []' : ''} (one per batch entry), got ${shapeOf(v)}`);
    }
    out = Array.from(v.dataSync());
  } else if (typeof v === 'number') {
    if (!unbatched) throw new Error(`Kiln: ${FN}: ${name} must be ${n} lengths (an int32 Tensor or an array), got the number ${v}`);
    out = [v];
  } else if (v != null && typeof v === 'object' && typeof (v as ArrayLike<number>).length === 'number') {
    out = Array.from(v as ArrayLike<number>);
  } else {
    throw new Error(`Kiln: ${FN}: ${name} must be an int32 Tensor or an array of integers, got ${v === null ? 'null' : typeof v}`);
  }
  if (out.length !== n) throw new Error(`Kiln: ${FN}: ${name} has ${out.length} entries, expected ${n} (the batch size of logProbs)`);
  out.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) {
      throw new Error(`Kiln: ${FN}: ${name}[${i}] must be a non-negative integer, got ${String(x)}${typeof x === 'number' && !Number.isInteger(x) ? ` (${name} must hold integers)` : ''}`);
    }
  });
  return out;
}
