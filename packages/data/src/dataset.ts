import { Tensor, tensor, Generator, stack, checkOptions, type OptionKind } from '@kiln/tensor';

const generatorKind: OptionKind = (v) => (v instanceof Generator ? null : 'a Generator');

/** A map-style dataset: `length` items, item `i` is a tuple of tensors. */
export interface Dataset<T extends Tensor[] = Tensor[]> {
  readonly length: number;
  get(i: number): T;
}

/** A seed next to a generator would be silently ignored (the generator draws the order). */
function checkSeedOrGenerator(op: string, options: { seed?: number; generator?: Generator }): void {
  if (options.seed !== undefined && options.generator !== undefined) {
    throw new Error(`Kiln: ${op}: give seed or generator, not both (seed ${options.seed} would be ignored)`);
  }
}

function checkIndex(op: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`Kiln: ${op}: index ${i} out of range for length ${n}`);
}

/** Copies rows `idx` of `t` (along dim 0) into a new tensor. */
export function takeRows(t: Tensor, idx: ArrayLike<number>): Tensor {
  if (!(t instanceof Tensor) || t.ndim < 1) throw new Error(`Kiln: takeRows: expected a Tensor with a row dim, got ${t instanceof Tensor ? `shape [${t.shape.join(',')}]` : String(t)}`);
  // an index past the end would copy an empty row (zeros), a negative one a row counted from the end
  for (let k = 0; k < idx.length; k++) checkIndex('takeRows', idx[k]!, t.shape[0]!);
  const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const src = t.dataSync();
  const Ctor = src.constructor as new (n: number) => typeof src;
  const out = new Ctor(idx.length * row);
  for (let k = 0; k < idx.length; k++) {
    const r = idx[k]!;
    (out as Float32Array).set((src as Float32Array).subarray(r * row, (r + 1) * row), k * row);
  }
  return tensor(out, { shape: [idx.length, ...t.shape.slice(1)], dtype: t.dtype });
}

/** Wraps tensors that share their first dimension; item i is `[t0[i], t1[i], ...]`. */
export class TensorDataset implements Dataset {
  readonly tensors: Tensor[];
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new Error('Kiln: TensorDataset: needs at least one tensor');
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new Error(`Kiln: TensorDataset: argument ${i} must be a Tensor, got ${Array.isArray(t) ? 'an array' : typeof t}`);
    });
    const n = tensors[0]!.shape[0];
    for (const t of tensors) {
      if (t.shape.length === 0 || t.shape[0] !== n) {
        throw new Error(`Kiln: TensorDataset: tensors must share their first dimension, got shapes ${tensors.map((x) => `[${x.shape.join(',')}]`).join(' ')}`);
      }
    }
    this.tensors = tensors;
  }
  get length(): number { return this.tensors[0]!.shape[0]!; }
  get(i: number): Tensor[] {
    checkIndex('TensorDataset.get', i, this.length);
    return this.tensors.map((t) => takeRows(t, [i]).reshape(t.shape.slice(1)));
  }
}

/** The items of `dataset` at `indices`. */
export class Subset<T extends Tensor[] = Tensor[]> implements Dataset<T> {
  constructor(readonly dataset: Dataset<T>, readonly indices: readonly number[]) {
    for (const i of indices) checkIndex('Subset', i, dataset.length);
  }
  get length(): number { return this.indices.length; }
  get(i: number): T {
    checkIndex('Subset.get', i, this.length);
    return this.dataset.get(this.indices[i]!);
  }
}

/**
 * Splits a dataset at random into non-overlapping subsets. `sizes` are lengths summing to the
 * dataset's length, or fractions summing to 1 (remainders go to the first subsets, as in PyTorch).
 */
export function randomSplit<T extends Tensor[]>(dataset: Dataset<T>, sizes: readonly number[], options: { seed?: number; generator?: Generator } = {}): Subset<T>[] {
  checkOptions('randomSplit', options, { seed: 'finite', generator: generatorKind });
  checkSeedOrGenerator('randomSplit', options);
  const n = dataset.length;
  let lengths: number[];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.every((s) => s >= 0 && s <= 1) && Math.abs(total - 1) < 1e-6 && !(sizes.every(Number.isInteger) && total === n)) {
    lengths = sizes.map((f) => Math.floor(f * n));
    let rest = n - lengths.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % lengths.length, rest--) lengths[i]!++;
  } else {
    if (!sizes.every((s) => Number.isInteger(s) && s >= 0) || total !== n) {
      throw new Error(`Kiln: randomSplit: sizes [${sizes.join(', ')}] must be lengths summing to ${n} or fractions summing to 1`);
    }
    lengths = [...sizes];
  }
  const gen = options.generator ?? new Generator(options.seed ?? 0);
  const perm = Array.from(gen.permutation(n));
  const out: Subset<T>[] = [];
  let start = 0;
  for (const len of lengths) { out.push(new Subset(dataset, perm.slice(start, start + len))); start += len; }
  return out;
}

export interface DataLoaderOptions {
  batchSize?: number;
  shuffle?: boolean;
  /** Seed for the shuffle order (a fresh order each epoch, reproducible across runs). */
  seed?: number;
  generator?: Generator;
  dropLast?: boolean;
  /** Applied to each batch (e.g. augmentation), after stacking. */
  transform?: (batch: Tensor[]) => Tensor[];
}

/** Resolves a dataset to its backing tensors and row indices when it is a (Subset of a) TensorDataset. */
function backing(ds: Dataset): { tensors: Tensor[]; rows: (i: number) => number } | null {
  if (ds instanceof TensorDataset) return { tensors: ds.tensors, rows: (i) => i };
  if (ds instanceof Subset) {
    const inner = backing(ds.dataset);
    if (inner) return { tensors: inner.tensors, rows: (i) => inner.rows(ds.indices[i]!) };
  }
  return null;
}

/** Iterates a dataset in mini-batches; each batch is a tuple of stacked tensors. */
export class DataLoader implements Iterable<Tensor[]> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly generator: Generator;
  constructor(readonly dataset: Dataset, private readonly options: DataLoaderOptions = {}) {
    checkOptions('DataLoader', options, { batchSize: 'number', shuffle: 'boolean', seed: 'finite', generator: generatorKind, dropLast: 'boolean', transform: 'function' });
    checkSeedOrGenerator('DataLoader', options);
    // An array of tensors (or a Tensor) has no get(): it would iterate as nothing or fail mid-epoch.
    const ds = dataset as Partial<Dataset> | null;
    if (!ds || typeof ds.get !== 'function' || !(Number.isInteger(ds.length) && ds.length! >= 0)) {
      const got = dataset instanceof Tensor ? 'a Tensor' : Array.isArray(dataset) ? 'an array' : typeof dataset;
      throw new Error(`Kiln: DataLoader: dataset must have an integer length and get(i) (e.g. new TensorDataset(x, y)), got ${got}`);
    }
    this.batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new Error(`Kiln: DataLoader: batchSize must be a positive integer, got ${options.batchSize}`);
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.generator = options.generator ?? new Generator(options.seed ?? 0);
  }
  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }
  *[Symbol.iterator](): Iterator<Tensor[]> {
    const n = this.dataset.length;
    const order = this.shuffle ? Array.from(this.generator.permutation(n)) : Array.from({ length: n }, (_, i) => i);
    const fast = backing(this.dataset);
    for (let b = 0; b < this.length; b++) {
      const idx = order.slice(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize));
      let batch: Tensor[];
      if (fast) {
        const rows = idx.map(fast.rows);
        batch = fast.tensors.map((t) => takeRows(t, rows));
      } else {
        const items = idx.map((i) => this.dataset.get(i));
        batch = items[0]!.map((_, k) => stack(items.map((it) => it[k]!), 0));
      }
      if (!this.options.transform) { yield batch; continue; }
      const out = this.options.transform(batch);
      // a transform returning the image tensor alone would drop the labels (and break [x, y] destructuring)
      if (!Array.isArray(out) || !out.every((t) => t instanceof Tensor)) {
        throw new Error(`Kiln: DataLoader: transform must return the batch as an array of Tensors, got ${out instanceof Tensor ? 'a Tensor' : Array.isArray(out) ? 'an array holding a non-Tensor' : typeof out}`);
      }
      yield out;
    }
  }
}
