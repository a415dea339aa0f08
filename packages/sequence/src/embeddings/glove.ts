import { Generator, Tensor, checkOptions } from '@kiln/tensor';
import { Embedding, Module, uniform_ } from '@kiln/nn';
import { EncodedCorpus } from './corpus.js';
import { WordVectors } from './word-vectors.js';
import type { TrainProgress } from './word2vec.js';

/** Sparse co-occurrence counts X_ij as parallel arrays (i, j, X), sorted by (i, j). */
export interface Cooccurrences {
  rows: Int32Array;
  cols: Int32Array;
  values: Float64Array;
  vocabSize: number;
}

/**
 * Counts co-occurrences within `window` words on either side, each pair weighted 1/d by its
 * distance d (GloVe's weighting), symmetrically (X_ij = X_ji). Events are gathered into a buffer,
 * sorted and merged into the sorted totals whenever it fills, so memory follows the distinct pairs.
 */
export function countCooccurrences(corpus: EncodedCorpus, window: number, options: { bufferSize?: number } = {}): Cooccurrences {
  if (!(Number.isInteger(window) && window >= 1)) throw new Error(`Kiln: countCooccurrences: window must be an integer >= 1, got ${String(window)}`);
  // each event writes two entries: a buffer under 2 would drop them past its end without a word
  checkOptions('countCooccurrences', options, { bufferSize: (v) => (Number.isInteger(v) && (v as number) >= 2 ? null : 'an integer >= 2') });
  const V = corpus.vocab.size;
  if (V * V * window > Number.MAX_SAFE_INTEGER) throw new Error(`Kiln: countCooccurrences: vocabulary of ${V} words is too large for window ${window}`);
  // Raw events are keys (i·V + j)·window + (d − 1), so a plain numeric sort groups them by pair.
  const cap = options.bufferSize ?? 1 << 22;
  const raw = new Float64Array(cap);
  let n = 0;
  let pairs = new Float64Array(0), vals = new Float64Array(0);
  const flush = () => {
    const r = raw.subarray(0, n).sort();
    const rp = new Float64Array(n), rv = new Float64Array(n);
    let m = -1;
    for (let t = 0; t < n; t++) {
      const key = r[t]!, pair = Math.floor(key / window), inc = 1 / ((key - pair * window) + 1);
      if (m >= 0 && rp[m] === pair) rv[m]! += inc;
      else { m++; rp[m] = pair; rv[m] = inc; }
    }
    m++;
    // merge the sorted run into the sorted totals
    const np = new Float64Array(pairs.length + m), nv = new Float64Array(pairs.length + m);
    let x = 0, y = 0, z = 0;
    while (x < pairs.length || y < m) {
      if (y >= m || (x < pairs.length && pairs[x]! < rp[y]!)) { np[z] = pairs[x]!; nv[z++] = vals[x++]!; }
      else if (x >= pairs.length || rp[y]! < pairs[x]!) { np[z] = rp[y]!; nv[z++] = rv[y++]!; }
      else { np[z] = pairs[x]!; nv[z++] = vals[x++]! + rv[y++]!; }
    }
    pairs = np.subarray(0, z); vals = nv.subarray(0, z);
    n = 0;
  };
  const { tokens, starts } = corpus;
  for (let s = 0; s + 1 < starts.length; s++) {
    const a = starts[s]!, e = starts[s + 1]!;
    for (let p = a; p < e; p++) {
      const wi = tokens[p]!;
      for (let q = p + 1; q < Math.min(e, p + window + 1); q++) {
        const wj = tokens[q]!, d = q - p - 1;
        if (n + 2 > cap) flush();
        raw[n++] = (wi * V + wj) * window + d;
        raw[n++] = (wj * V + wi) * window + d;
      }
    }
  }
  if (n > 0) flush();
  const nnz = pairs.length;
  if (nnz === 0) throw new Error(`Kiln: countCooccurrences: no two words share a window of ${window} (every sentence has fewer than 2 kept words)`);
  const rows = new Int32Array(nnz), cols = new Int32Array(nnz);
  for (let t = 0; t < nnz; t++) { rows[t] = Math.floor(pairs[t]! / V); cols[t] = pairs[t]! - rows[t]! * V; }
  return { rows, cols, values: Float64Array.from(vals), vocabSize: V };
}

/** GloVe's weighting f(x) = (x/xMax)^α below xMax, 1 above. */
export function gloveWeight(x: number, xMax = 100, alpha = 0.75): number {
  return x < xMax ? (x / xMax) ** alpha : 1;
}

export interface GloVeOptions {
  dim?: number;
  window?: number;
  minCount?: number;
  maxVocab?: number;
  xMax?: number;
  alpha?: number;
  epochs?: number;
  /** Non-zero entries per mini-batch. */
  batchSize?: number;
  /** AdaGrad learning rate (the paper's 0.05). */
  lr?: number;
  seed?: number;
  onProgress?: (p: TrainProgress) => void;
  progressEvery?: number;
}

const SPEC = {
  dim: 'posint', window: 'posint', minCount: 'posint', maxVocab: 'posint', xMax: 'finite', alpha: 'finite', epochs: 'posint', batchSize: 'posint',
  lr: 'finite', seed: 'int', onProgress: 'function', progressEvery: 'posint',
} as const;

/** The weighted least-squares cost on tables w, w̃ [V, D] and b, b̃ [V, 1] (whole tables, or the rows of a batch with ids into them). */
function gloveLoss(w: Tensor, wTilde: Tensor, b: Tensor, bTilde: Tensor, i: Tensor, j: Tensor, logX: Tensor, weight: Tensor): Tensor {
  const dot = w.indexSelect(0, i).mul(wTilde.indexSelect(0, j)).sum(1);
  const diff = dot.add(b.indexSelect(0, i).reshape([-1])).add(bTilde.indexSelect(0, j).reshape([-1])).sub(logX);
  return weight.mul(diff.square()).sum();
}

/**
 * AdaGrad on the rows a mini-batch uses (PyTorch's Adagrad with sparse gradients): each table's
 * rows are gathered into a leaf tensor for autograd, and after backward those rows take the step
 * of `@kiln/optim`'s `Adagrad` (lrDecay 0, no weight decay, eps 1e-10): s ← s + g², w ← w − lr·g/(√s + eps).
 * Rows a batch does not use have zero gradient, for which the dense step changes nothing either,
 * so the result equals dense Adagrad at a fraction of the cost on a large vocabulary.
 */
export class SparseAdagrad {
  private readonly sums: Float64Array[];
  private readonly slot: Int32Array;
  private pending: { sub: Tensor; rows: Int32Array; table: number }[] = [];

  constructor(readonly tables: readonly Tensor[], readonly lr: number, readonly eps = 1e-10) {
    this.sums = tables.map((t) => new Float64Array(t.shape[0]! * t.shape[1]!));
    this.slot = new Int32Array(Math.max(...tables.map((t) => t.shape[0]!))).fill(-1);
  }

  /** Gathers, per table, the rows `ids[t]` uses: a leaf tensor [U, D] requiring grad and the ids renumbered into it. */
  gather(ids: readonly Int32Array[]): { sub: Tensor; local: Int32Array }[] {
    this.pending = [];
    return ids.map((idx, t) => {
      const table = this.tables[t]!, d = table.shape[1]!, data = table.dataSync() as Float32Array;
      const rows: number[] = [], local = new Int32Array(idx.length);
      for (let q = 0; q < idx.length; q++) {
        const id = idx[q]!;
        if (this.slot[id]! < 0) { this.slot[id] = rows.length; rows.push(id); }
        local[q] = this.slot[id]!;
      }
      const sub = new Float32Array(rows.length * d);
      for (let r = 0; r < rows.length; r++) { sub.set(data.subarray(rows[r]! * d, (rows[r]! + 1) * d), r * d); this.slot[rows[r]!] = -1; }
      const leaf = new Tensor(sub, [rows.length, d], 'float32').requiresGrad_(true);
      this.pending.push({ sub: leaf, rows: Int32Array.from(rows), table: t });
      return { sub: leaf, local };
    });
  }

  /** Applies the AdaGrad step to the gathered rows from their gradients (after `backward`). */
  step(): void {
    for (const { sub, rows, table } of this.pending) {
      const t = this.tables[table]!, d = t.shape[1]!, w = t.dataSync() as Float32Array, sum = this.sums[table]!;
      const g = sub.grad?.dataSync();
      if (!g) continue;
      for (let r = 0; r < rows.length; r++) {
        const base = rows[r]! * d;
        for (let c = 0; c < d; c++) {
          const gi = g[r * d + c]!, s = sum[base + c]! + gi * gi;
          sum[base + c] = s;
          w[base + c] = w[base + c]! - (this.lr * gi) / (Math.sqrt(s) + this.eps);
        }
      }
      t.markModified();
    }
    this.pending = [];
  }
}

/**
 * GloVe (Pennington et al. 2014): word vectors w, context vectors w̃ and biases b, b̃ minimising
 * Σ f(X_ij)(w_i·w̃_j + b_i + b̃_j − log X_ij)² over the non-zero counts, trained with AdaGrad.
 * The word vectors reported are w + w̃, as in the paper.
 */
export class GloVe extends Module {
  readonly w: Embedding;
  readonly wTilde: Embedding;
  readonly b: Embedding;
  readonly bTilde: Embedding;

  constructor(readonly corpus: EncodedCorpus, readonly dim: number, generator: Generator = new Generator(0)) {
    super();
    const V = corpus.vocab.size;
    this.w = new Embedding(V, dim);
    this.wTilde = new Embedding(V, dim);
    this.b = new Embedding(V, 1);
    this.bTilde = new Embedding(V, 1);
    for (const e of [this.w, this.wTilde, this.b, this.bTilde]) uniform_(e.weight, -0.5 / dim, 0.5 / dim, generator);
  }

  /** Weighted squared error summed over the entries (i, j) with targets log X and weights f(X). */
  override forward(i: Tensor, j: Tensor, logX: Tensor, weight: Tensor): Tensor {
    return gloveLoss(this.w.weight, this.wTilde.weight, this.b.weight, this.bTilde.weight, i, j, logX, weight);
  }

  /** w + w̃ as WordVectors (the `<unk>` row is the mean word vector). */
  vectors(): WordVectors {
    const a = this.w.weight.dataSync(), b = this.wTilde.weight.dataSync();
    const sum = new Float32Array(a.length);
    for (let t = 0; t < a.length; t++) sum[t] = a[t]! + b[t]!;
    const V = this.corpus.vocab.size, d = this.dim, unk = this.corpus.vocab.indexOf(this.corpus.vocab.unk!);
    const mean = new Float64Array(d);
    for (let r = 0; r < V; r++) if (r !== unk) for (let c = 0; c < d; c++) mean[c]! += sum[r * d + c]! / (V - 1);
    sum.set(mean, unk * d);
    return new WordVectors(this.corpus.vocab.tokens, sum, d, { unk: this.corpus.vocab.unk });
  }

  static train(sentences: Iterable<readonly string[]>, options: GloVeOptions = {}): { model: GloVe; vectors: WordVectors; losses: number[]; cooccurrences: Cooccurrences } {
    const op = 'GloVe.train';
    checkOptions(op, options, SPEC);
    const o = { dim: 50, window: 10, minCount: 5, xMax: 100, alpha: 0.75, epochs: 10, batchSize: 4096, lr: 0.05, seed: 0, progressEvery: 50, ...options };
    if (!(o.xMax > 0 && o.alpha > 0 && o.lr > 0)) throw new Error(`Kiln: ${op}: xMax, alpha and lr must be > 0, got ${o.xMax}, ${o.alpha}, ${o.lr}`);
    const corpus = EncodedCorpus.build(sentences, { minCount: o.minCount, ...(o.maxVocab === undefined ? {} : { maxSize: o.maxVocab }), op });
    const X = countCooccurrences(corpus, o.window);
    const gen = new Generator(o.seed);
    const model = new GloVe(corpus, o.dim, gen);
    const nnz = X.values.length, B = o.batchSize;
    const logX = new Float32Array(nnz), fx = new Float32Array(nnz);
    for (let t = 0; t < nnz; t++) { logX[t] = Math.log(X.values[t]!); fx[t] = gloveWeight(X.values[t]!, o.xMax, o.alpha); }
    const adagrad = new SparseAdagrad([model.w.weight, model.wTilde.weight, model.b.weight, model.bTilde.weight], o.lr);
    const losses: number[] = [];
    const t0 = Date.now();
    let lossSum = 0, count = 0, steps = 0;
    const report = (epoch: number, done: number) => {
      if (!count) return;
      const p = { epoch, epochs: o.epochs, fraction: done, loss: lossSum / count, examples: count, seconds: (Date.now() - t0) / 1000 };
      losses.push(p.loss);
      o.onProgress?.(p);
      lossSum = 0; count = 0;
    };
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const perm = gen.permutation(nnz);
      for (let s = 0; s < nnz; s += B) {
        const m = Math.min(B, nnz - s);
        const bi = new Int32Array(m), bj = new Int32Array(m), bl = new Float32Array(m), bw = new Float32Array(m);
        for (let t = 0; t < m; t++) { const e = perm[s + t]!; bi[t] = X.rows[e]!; bj[t] = X.cols[e]!; bl[t] = logX[e]!; bw[t] = fx[e]!; }
        // The paper's cost is ½-less: J = Σ f·(…)²; AdaGrad's per-coordinate scaling makes the factor immaterial.
        // Autograd runs on the rows this batch uses (sub-tables); AdaGrad updates those rows only.
        const [w, wt, b, bt] = adagrad.gather([bi, bj, bi, bj]);
        const loss = gloveLoss(w!.sub, wt!.sub, b!.sub, bt!.sub, new Tensor(w!.local, [m], 'int32'), new Tensor(wt!.local, [m], 'int32'),
          new Tensor(bl, [m], 'float32'), new Tensor(bw, [m], 'float32'));
        loss.backward();
        adagrad.step();
        lossSum += loss.item();
        count += m;
        if (++steps % o.progressEvery === 0) report(epoch, (epoch - 1 + (s + m) / nnz) / o.epochs);
      }
      report(epoch, epoch / o.epochs);
    }
    return { model, vectors: model.vectors(), losses, cooccurrences: X };
  }
}
