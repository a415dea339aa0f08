/** Language-model batches: each sequence becomes input ids[:-1] and next-token targets ids[1:]. */
import { Generator, Tensor, checkOptions, type OptionKind } from '@kiln/tensor';

/** Targets at padded positions; `crossEntropy` skips them (its default `ignoreIndex`). */
export const IGNORE_INDEX = -100;

export interface LMBatchOptions {
  batchSize?: number;
  /** Shuffle the sequences every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling (default 0), so runs repeat. */
  seed?: number;
  /** The id that pads inputs (default 0, `<pad>`). */
  padId?: number;
  /** Drop sequences longer than this many tokens (default: keep all). */
  maxLength?: number;
}

const SPEC: Record<string, OptionKind> = { batchSize: 'number', shuffle: 'boolean', seed: 'finite', padId: 'int', maxLength: 'number' };

/**
 * Batches of `[input [B, T], target [B, T]]` (int32) over encoded sequences, usually
 * `<bos> … <eos>`: the input is each sequence without its last token, the target without its
 * first; shorter sequences pad the input with `padId` and the target with `IGNORE_INDEX`. T is
 * the longest sequence in each batch. Iterable once per epoch (a new order each time) with a
 * `length`, so it drops straight into `fit`.
 */
export class LMBatches implements Iterable<Tensor[]> {
  readonly sequences: readonly (readonly number[])[];
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly padId: number;
  private readonly gen: Generator;

  constructor(sequences: readonly (readonly number[])[], options: LMBatchOptions = {}) {
    const op = 'LMBatches';
    checkOptions(op, options, SPEC);
    if (!Array.isArray(sequences)) throw new Error(`Kiln: ${op}: sequences must be an array of id arrays`);
    const batchSize = options.batchSize ?? 32, maxLength = options.maxLength ?? Infinity;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`Kiln: ${op}: batchSize must be an integer >= 1, got ${String(options.batchSize)}`);
    if (!(maxLength === Infinity || (Number.isInteger(maxLength) && maxLength >= 2))) throw new Error(`Kiln: ${op}: maxLength must be an integer >= 2, got ${String(options.maxLength)}`);
    sequences.forEach((s, i) => {
      if (!Array.isArray(s) || s.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`Kiln: ${op}: sequence ${i} must be an array of integer ids >= 0`);
    });
    this.sequences = sequences.filter((s) => s.length >= 2 && s.length <= maxLength);
    if (this.sequences.length === 0) throw new Error(`Kiln: ${op}: no sequence of 2..${maxLength} tokens among ${sequences.length}`);
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? true;
    this.padId = options.padId ?? 0;
    this.gen = new Generator(options.seed ?? 0);
  }

  get length(): number { return Math.ceil(this.sequences.length / this.batchSize); }

  /** Next-token targets in all (the tokens a per-token loss averages over). */
  get tokens(): number { return this.sequences.reduce((a, s) => a + s.length - 1, 0); }

  *[Symbol.iterator](): Iterator<Tensor[]> {
    const n = this.sequences.length;
    const order = this.shuffle ? this.gen.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    for (let s = 0; s < n; s += this.batchSize) {
      const idx = order.subarray(s, Math.min(n, s + this.batchSize));
      yield lmBatch(Array.from(idx, (i) => this.sequences[i]!), this.padId);
    }
  }
}

/** One batch: `[input, target]` for these sequences (see `LMBatches`). */
export function lmBatch(seqs: readonly (readonly number[])[], padId = 0): [Tensor, Tensor] {
  const b = seqs.length, t = Math.max(...seqs.map((s) => s.length)) - 1;
  if (!(t >= 1)) throw new Error('Kiln: lmBatch: every sequence needs at least 2 tokens');
  const x = new Int32Array(b * t).fill(padId), y = new Int32Array(b * t).fill(IGNORE_INDEX);
  seqs.forEach((s, i) => {
    for (let j = 0; j < s.length - 1; j++) { x[i * t + j] = s[j]!; y[i * t + j] = s[j + 1]!; }
  });
  return [new Tensor(x, [b, t], 'int32'), new Tensor(y, [b, t], 'int32')];
}
