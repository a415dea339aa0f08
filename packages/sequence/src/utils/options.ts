/** Validation shared by the recurrent layers: option objects, sizes, lengths. */
import { Tensor } from '@kiln/tensor';

type Kind = 'boolean' | 'number' | 'string' | 'object';

/** Throws unless `options` is a plain object whose keys are in `spec` with values of the stated type. */
export function checkOptions(layer: string, options: unknown, spec: Record<string, Kind>): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`Kiln: ${layer}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const [k, v] of Object.entries(options)) {
    const kind = spec[k];
    if (!kind) throw new Error(`Kiln: ${layer}: unknown option '${k}' (known: ${Object.keys(spec).join(', ') || 'none'})`);
    if (v !== undefined && typeof v !== kind) throw new Error(`Kiln: ${layer}: option '${k}' must be a ${kind}, got ${JSON.stringify(v)}`);
  }
}

/** Throws unless `v` is a positive integer (or ≥ `min`). */
export function checkCount(layer: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`Kiln: ${layer}: ${name} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

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
