import { Tensor } from '@kiln/tensor';
import { Embedding } from '@kiln/nn';
import { UNK, checkOptionKeys } from '../text/vocab.js';

export interface Neighbour {
  word: string;
  score: number;
}

export type AnalogyMethod = '3CosAdd' | '3CosMul';

/**
 * A table of word vectors (one row of `dim` float32 values per word) with the usual queries:
 * cosine similarity, nearest neighbours and analogies. Lookups of unknown words give the `<unk>`
 * row when the table has one (`unk`), else an error naming the word — never a silent zero vector.
 */
export class WordVectors {
  readonly words: readonly string[];
  readonly vectors: Float32Array;
  readonly dim: number;
  /** The row unknown words map to, or null (then unknown words are an error). */
  readonly unk: string | null;
  private readonly ids = new Map<string, number>();
  private unitCache: Float32Array | null = null;

  constructor(words: readonly string[], vectors: Float32Array | Float64Array | readonly number[], dim: number, options: { unk?: string | null } = {}) {
    const op = 'WordVectors';
    checkOptionKeys(op, options, new Set(['unk']));
    if (!Array.isArray(words)) throw new Error(`Kiln: ${op}: words must be an array of strings, got ${typeof words}`);
    if (!(Number.isInteger(dim) && dim >= 1)) throw new Error(`Kiln: ${op}: dim must be an integer >= 1, got ${String(dim)}`);
    if (vectors.length !== words.length * dim) {
      throw new Error(`Kiln: ${op}: ${words.length} words × dim ${dim} need ${words.length * dim} values, got ${vectors.length}`);
    }
    words.forEach((w, i) => {
      if (typeof w !== 'string' || w === '') throw new Error(`Kiln: ${op}: word ${i} must be a non-empty string, got ${JSON.stringify(w)}`);
      if (this.ids.has(w)) throw new Error(`Kiln: ${op}: word ${JSON.stringify(w)} appears twice (rows ${this.ids.get(w)} and ${i})`);
      this.ids.set(w, i);
    });
    const unk = options.unk === undefined ? (this.ids.has(UNK) ? UNK : null) : options.unk;
    if (unk !== null && !this.ids.has(unk)) throw new Error(`Kiln: ${op}: unk ${JSON.stringify(unk)} is not one of the words`);
    for (let i = 0; i < vectors.length; i++) {
      if (!Number.isFinite(vectors[i]!)) throw new Error(`Kiln: ${op}: value ${vectors[i]} at row ${Math.floor(i / dim)} (${JSON.stringify(words[Math.floor(i / dim)])}), column ${i % dim} is not finite`);
    }
    this.words = [...words];
    this.vectors = vectors instanceof Float32Array ? vectors : Float32Array.from(vectors);
    this.dim = dim;
    this.unk = unk;
  }

  /** Vectors from the rows of an embedding matrix [V, D] (a Tensor or an Embedding) for the vocabulary `words`. */
  static fromEmbedding(words: readonly string[], weight: Tensor | Embedding, options: { unk?: string | null } = {}): WordVectors {
    const w = weight instanceof Embedding ? weight.weight : weight;
    if (w.ndim !== 2 || w.shape[0] !== words.length) {
      throw new Error(`Kiln: WordVectors.fromEmbedding: weight must be [${words.length}, D] for ${words.length} words, got [${w.shape.join(',')}]`);
    }
    return new WordVectors(words, Float32Array.from(w.dataSync() as Float32Array), w.shape[1]!, options);
  }

  get size(): number { return this.words.length; }

  has(word: string): boolean { return this.ids.has(word); }

  /** Row of `word`; unknown words give the unk row, or an error when there is none. */
  indexOf(word: string, op = 'WordVectors.indexOf'): number {
    const id = this.ids.get(word);
    if (id !== undefined) return id;
    if (this.unk === null) throw new Error(`Kiln: ${op}: unknown word ${JSON.stringify(word)} (not among the ${this.size} words, and there is no unk row)`);
    return this.ids.get(this.unk)!;
  }

  /** Row of `word`, or an error even when there is an unk row (queries on unknown words mean nothing). */
  private strictIndex(word: string, op: string): number {
    const id = this.ids.get(word);
    if (id === undefined) throw new Error(`Kiln: ${op}: unknown word ${JSON.stringify(word)} (not among the ${this.size} words)`);
    return id;
  }

  /** A copy of the vector of `word` (the unk vector for unknown words when there is one). */
  vector(word: string): Float32Array {
    const i = this.indexOf(word, 'WordVectors.vector');
    return this.vectors.slice(i * this.dim, (i + 1) * this.dim);
  }

  /** Unit-length rows (zero rows stay zero), computed once. */
  unitVectors(): Float32Array {
    if (this.unitCache) return this.unitCache;
    const u = new Float32Array(this.vectors.length), d = this.dim;
    for (let r = 0; r < this.size; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += this.vectors[r * d + j]! ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < d; j++) u[r * d + j] = this.vectors[r * d + j]! * inv;
    }
    this.unitCache = u;
    return u;
  }

  /** Cosine similarity of two words (both must be known). */
  similarity(a: string, b: string): number {
    const u = this.unitVectors(), d = this.dim;
    const i = this.strictIndex(a, 'WordVectors.similarity') * d, j = this.strictIndex(b, 'WordVectors.similarity') * d;
    let s = 0;
    for (let k = 0; k < d; k++) s += u[i + k]! * u[j + k]!;
    return s;
  }

  /** Cosine similarity of every row with the vector `q` (normalised here). */
  cosines(q: ArrayLike<number>): Float64Array {
    const d = this.dim;
    if (q.length !== d) throw new Error(`Kiln: WordVectors.cosines: query has ${q.length} values, vectors have ${d}`);
    let n = 0;
    for (let k = 0; k < d; k++) n += q[k]! ** 2;
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    const u = this.unitVectors(), out = new Float64Array(this.size);
    for (let r = 0; r < this.size; r++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += u[r * d + k]! * q[k]!;
      out[r] = s * inv;
    }
    return out;
  }

  /** The `k` words closest (cosine) to a word or a vector, the word itself and `exclude` left out. */
  mostSimilar(query: string | ArrayLike<number>, k = 10, options: { exclude?: readonly string[] } = {}): Neighbour[] {
    const op = 'WordVectors.mostSimilar';
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`Kiln: ${op}: k must be an integer >= 1, got ${String(k)}`);
    checkOptionKeys(op, options, new Set(['exclude']));
    const skip = new Set<number>();
    let q: ArrayLike<number>;
    if (typeof query === 'string') {
      const i = this.strictIndex(query, op);
      skip.add(i);
      q = this.unitVectors().subarray(i * this.dim, (i + 1) * this.dim);
    } else q = query;
    for (const w of options.exclude ?? []) { const i = this.ids.get(w); if (i !== undefined) skip.add(i); }
    return this.topK(this.cosines(q), k, skip);
  }

  /**
   * a is to b as c is to ?: with 3CosAdd the word maximising cos(x, b − a + c) (on unit vectors);
   * with 3CosMul (Levy & Goldberg) the word maximising cos'(x,b)·cos'(x,c)/(cos'(x,a) + ε) with
   * cos' = (cos + 1)/2. The query words a, b, c are never answers.
   */
  analogy(a: string, b: string, c: string, options: { method?: AnalogyMethod; k?: number } = {}): Neighbour[] {
    const op = 'WordVectors.analogy';
    checkOptionKeys(op, options, new Set(['method', 'k']));
    const method = options.method ?? '3CosAdd', k = options.k ?? 1;
    if (method !== '3CosAdd' && method !== '3CosMul') throw new Error(`Kiln: ${op}: method must be '3CosAdd' or '3CosMul', got ${JSON.stringify(method)}`);
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`Kiln: ${op}: k must be an integer >= 1, got ${String(k)}`);
    const ia = this.strictIndex(a, op), ib = this.strictIndex(b, op), ic = this.strictIndex(c, op);
    const u = this.unitVectors(), d = this.dim;
    const skip = new Set([ia, ib, ic]);
    if (method === '3CosAdd') {
      const q = new Float64Array(d);
      for (let j = 0; j < d; j++) q[j] = u[ib * d + j]! - u[ia * d + j]! + u[ic * d + j]!;
      return this.topK(this.cosines(q), k, skip);
    }
    const row = (i: number) => u.subarray(i * d, (i + 1) * d);
    const ca = this.cosines(row(ia)), cb = this.cosines(row(ib)), cc = this.cosines(row(ic));
    const scores = new Float64Array(this.size);
    for (let r = 0; r < this.size; r++) scores[r] = (((cb[r]! + 1) / 2) * ((cc[r]! + 1) / 2)) / ((ca[r]! + 1) / 2 + 1e-3);
    return this.topK(scores, k, skip);
  }

  private topK(scores: Float64Array, k: number, skip: ReadonlySet<number>): Neighbour[] {
    const best: Neighbour[] = [];
    for (let r = 0; r < scores.length; r++) {
      if (skip.has(r) || (this.unk !== null && this.words[r] === this.unk)) continue;
      const s = scores[r]!;
      if (best.length === k && s <= best[k - 1]!.score) continue;
      let p = best.length;
      while (p > 0 && best[p - 1]!.score < s) p--;
      best.splice(p, 0, { word: this.words[r]!, score: s });
      if (best.length > k) best.pop();
    }
    return best;
  }

  /** A new table of the given words only (in that order), e.g. to plot or to shrink a large file. */
  subset(words: readonly string[]): WordVectors {
    const d = this.dim, out = new Float32Array(words.length * d);
    words.forEach((w, r) => { const i = this.strictIndex(w, 'WordVectors.subset'); out.set(this.vectors.subarray(i * d, (i + 1) * d), r * d); });
    return new WordVectors(words, out, d, { unk: this.unk !== null && words.includes(this.unk) ? this.unk : null });
  }

  /** The vectors as a float32 tensor [size, dim] (a copy). */
  toTensor(): Tensor {
    return new Tensor(Float32Array.from(this.vectors), [this.size, this.dim], 'float32');
  }

  /**
   * An `Embedding` initialised from the vectors, rows in the order of `words` (default: this
   * table's order); words missing here get the unk row, or an error without one. `freeze` stops
   * its gradient (the course's pretrained, non-trainable embedding layer).
   */
  toEmbedding(options: { words?: readonly string[]; freeze?: boolean; paddingIdx?: number } = {}): Embedding {
    checkOptionKeys('WordVectors.toEmbedding', options, new Set(['words', 'freeze', 'paddingIdx']));
    const words = options.words ?? this.words;
    const d = this.dim;
    const emb = new Embedding(words.length, d, options.paddingIdx === undefined ? {} : { paddingIdx: options.paddingIdx });
    const w = emb.weight.dataSync() as Float32Array;
    words.forEach((word, r) => {
      if (r === emb.paddingIdx) { w.fill(0, r * d, (r + 1) * d); return; }
      const i = this.indexOf(word, 'WordVectors.toEmbedding');
      w.set(this.vectors.subarray(i * d, (i + 1) * d), r * d);
    });
    emb.weight.markModified();
    if (options.freeze) emb.weight.requiresGrad_(false);
    return emb;
  }
}
