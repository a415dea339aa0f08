import { checkOptions, Generator } from '@kiln/tensor';
import { UNK, Vocab } from '../text/vocab.js';

/**
 * A tokenised corpus as ids: `tokens` holds every kept token of every sentence back to back,
 * sentence s being `tokens[starts[s] .. starts[s+1])`. Words below `minCount` are dropped (as
 * word2vec and GloVe do), so they never sit inside anyone's window. Id 0 is `<unk>` (never in
 * `tokens`; it stands for unknown words at lookup time).
 */
export class EncodedCorpus {
  constructor(
    readonly vocab: Vocab,
    /** Occurrences of each id in the corpus (0 for `<unk>`). */
    readonly counts: Float64Array,
    readonly tokens: Int32Array,
    readonly starts: Int32Array,
  ) {}

  get numSentences(): number { return this.starts.length - 1; }
  get numTokens(): number { return this.tokens.length; }

  /** Encodes tokenised sentences: vocabulary of the words seen ≥ minCount times (at most maxSize). */
  static build(sentences: Iterable<readonly string[]>, options: { minCount?: number; maxSize?: number; op?: string } = {}): EncodedCorpus {
    const op = options.op ?? 'EncodedCorpus.build';
    checkOptions(op, options, { minCount: 'int', maxSize: 'posint', op: 'string' });
    const minCount = options.minCount ?? 5;
    if (!(Number.isInteger(minCount) && minCount >= 1)) throw new Error(`Kiln: ${op}: minCount must be an integer >= 1, got ${String(minCount)}`);
    const list: (readonly string[])[] = [];
    const counts = new Map<string, number>();
    let total = 0;
    for (const s of sentences) {
      if (!Array.isArray(s)) throw new Error(`Kiln: ${op}: sentence ${list.length} must be an array of tokens, got ${typeof s}`);
      list.push(s);
      for (const t of s) {
        if (typeof t !== 'string') throw new Error(`Kiln: ${op}: sentence ${list.length - 1} holds a non-string token ${JSON.stringify(t)}`);
        counts.set(t, (counts.get(t) ?? 0) + 1);
        total++;
      }
    }
    if (total === 0) throw new Error(`Kiln: ${op}: the corpus is empty (${list.length} sentences, no tokens)`);
    const vocab = Vocab.fromCounts(counts, { minFreq: minCount, specials: [UNK], ...(options.maxSize === undefined ? {} : { maxSize: options.maxSize + 1 }) });
    if (vocab.size < 3) {
      throw new Error(`Kiln: ${op}: only ${vocab.size - 1} distinct words occur at least minCount = ${minCount} times in ${total} tokens; need at least 2 (lower minCount or give more text)`);
    }
    const ids: number[] = [], starts: number[] = [0];
    const c = new Float64Array(vocab.size);
    for (const s of list) {
      for (const t of s) {
        if (!vocab.has(t) || t === UNK) continue;
        const id = vocab.indexOf(t);
        ids.push(id);
        c[id]!++;
      }
      if (ids.length > starts[starts.length - 1]!) starts.push(ids.length);
    }
    return new EncodedCorpus(vocab, c, Int32Array.from(ids), Int32Array.from(starts));
  }

  /**
   * word2vec's sub-sampling: each occurrence of a word of corpus frequency f is kept with
   * probability (√(f/t) + 1)·t/f (t = `sample`; ≥ 1 keeps all), drawn anew each epoch.
   */
  subsample(sample: number, gen: Generator): { tokens: Int32Array; starts: Int32Array } {
    if (sample <= 0) return { tokens: this.tokens, starts: this.starts };
    const total = this.tokens.length;
    const keep = new Float64Array(this.counts.length);
    for (let i = 0; i < keep.length; i++) {
      const f = this.counts[i]! / total;
      keep[i] = f > 0 ? Math.min(1, (Math.sqrt(f / sample) + 1) * (sample / f)) : 0;
    }
    const out = new Int32Array(total), starts: number[] = [0];
    let n = 0;
    for (let s = 0; s < this.numSentences; s++) {
      for (let p = this.starts[s]!; p < this.starts[s + 1]!; p++) {
        const id = this.tokens[p]!;
        if (keep[id]! >= 1 || gen.random() < keep[id]!) out[n++] = id;
      }
      if (n > starts[starts.length - 1]!) starts.push(n);
    }
    return { tokens: out.subarray(0, n), starts: Int32Array.from(starts) };
  }
}

/** Draws negatives from the unigram distribution raised to `power` (¾ in word2vec) through a cumulative table. */
export class UnigramSampler {
  private readonly cdf: Float64Array;

  constructor(counts: Float64Array, power = 0.75) {
    this.cdf = new Float64Array(counts.length);
    let s = 0;
    for (let i = 0; i < counts.length; i++) { s += counts[i]! > 0 ? counts[i]! ** power : 0; this.cdf[i] = s; }
    if (!(s > 0)) throw new Error('Kiln: UnigramSampler: all counts are zero');
    for (let i = 0; i < counts.length; i++) this.cdf[i]! /= s;
  }

  /** Probability of drawing id `i`. */
  prob(i: number): number { return this.cdf[i]! - (i > 0 ? this.cdf[i - 1]! : 0); }

  /** Fills `out` with draws. */
  fill(out: Int32Array, gen: Generator): Int32Array {
    const cdf = this.cdf, n = cdf.length;
    for (let k = 0; k < out.length; k++) {
      const u = gen.random();
      let lo = 0, hi = n - 1;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid]! <= u) lo = mid + 1; else hi = mid; }
      out[k] = lo;
    }
    return out;
  }
}
