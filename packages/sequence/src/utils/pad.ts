/** Padding variable-length sequences into one batch, as PyTorch's `pad_sequence`. */
import { checkOptions, stack, tensor, Tensor } from '@kiln/tensor';
import { shapeStr } from './options.js';

export interface PadSequenceOptions {
  /** Output `[B, T, *]` instead of `[T, B, *]` (default false, as PyTorch). */
  batchFirst?: boolean;
  /** Value of the padded positions (default 0). */
  paddingValue?: number;
}

/**
 * Stacks sequences `[L_i, *]` (equal trailing dims) into `[T, B, *]` (or `[B, T, *]`), T = max L_i,
 * padding each at its end with `paddingValue`. Differentiable: each sequence receives the
 * gradient of its own positions. Pair it with `sequenceLengths` for the layers' `lengths`.
 */
export function padSequence(sequences: readonly Tensor[], options: PadSequenceOptions = {}): Tensor {
  if (!Array.isArray(sequences) || sequences.length === 0 || !sequences.every((s) => s instanceof Tensor)) {
    throw new Error('Kiln: padSequence: sequences must be a non-empty array of tensors');
  }
  checkOptions('padSequence', options, { batchFirst: 'boolean', paddingValue: 'number' });
  const first = sequences[0]!;
  const tail = first.shape.slice(1);
  sequences.forEach((s, i) => {
    if (s.ndim < 1 || s.ndim !== first.ndim || s.shape.slice(1).some((d, j) => d !== tail[j])) {
      throw new Error(`Kiln: padSequence: sequences[${i}] has shape ${shapeStr(s.shape)}, expected [L, ${tail.join(', ')}] like sequences[0] ${shapeStr(first.shape)}`);
    }
  });
  const T = Math.max(...sequences.map((s) => s.shape[0]!));
  const value = options.paddingValue ?? 0;
  const padded = sequences.map((s) => {
    const missing = T - s.shape[0]!;
    if (missing === 0) return s;
    // pad's list runs from the last dim backwards: (last before, last after, ..., dim 0 before, dim 0 after).
    const pads = new Array<number>(2 * s.ndim).fill(0);
    pads[2 * s.ndim - 1] = missing;
    return s.pad(pads, 'constant', value);
  });
  return stack(padded, options.batchFirst ? 0 : 1);
}

/** The lengths of `sequences` (dim 0 of each), for the recurrent layers' `lengths` option. */
export function sequenceLengths(sequences: readonly Tensor[]): number[] {
  return sequences.map((s) => s.shape[0]!);
}

/** A `[T, B]` (or `[B, T]` with batchFirst) float mask: 1 at steps < lengths[b], 0 at padding. */
export function lengthsMask(lengths: ArrayLike<number>, T: number, options: { batchFirst?: boolean; dtype?: 'float32' | 'float64' } = {}): Tensor {
  checkOptions('lengthsMask', options, { batchFirst: 'boolean', dtype: ['float32', 'float64'] });
  if (!(Number.isInteger(T) && T >= 0)) throw new Error(`Kiln: lengthsMask: T must be an integer >= 0, got ${String(T)}`);
  // a length past T (or a fractional one) would be cut or rounded into a mask that matches no batch
  Array.from(lengths).forEach((v, b) => {
    if (!(Number.isInteger(v) && v >= 0 && v <= T)) throw new Error(`Kiln: lengthsMask: lengths[${b}] = ${v} must be an integer in 0..${T} (T)`);
  });
  const B = lengths.length;
  const dtype = options.dtype ?? 'float32';
  const data = dtype === 'float64' ? new Float64Array(T * B) : new Float32Array(T * B);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < Math.min(T, lengths[b]!); t++) data[options.batchFirst ? b * T + t : t * B + b] = 1;
  }
  return tensor(data, { shape: options.batchFirst ? [B, T] : [T, B], dtype });
}
