/** Intrinsic evaluation: analogy accuracy, similarity ranking and Spearman correlation, each with its chance level. */
import { checkOptions } from '@kiln/tensor';
import type { AnalogyMethod, WordVectors } from './word-vectors.js';

export type AnalogyQuestion = readonly [string, string, string, string];

export interface AnalogyScore {
  /** Questions whose expected word is the best answer / among the `k` best. */
  correct: number;
  correctTopK: number;
  accuracy: number;
  accuracyTopK: number;
}

export interface AnalogyResult {
  /** Questions answered: all four words among the candidates. */
  total: number;
  /** Questions left out because a word is unknown or outside the `restrictVocab` most frequent rows. */
  skipped: number;
  /** Words that may be answers (the `restrictVocab` first rows, `<unk>` left out). */
  candidates: number;
  k: number;
  /** Accuracy of a uniform guess among the candidates that are not query words: 1/(candidates − 3), and k/(candidates − 3) for top-k. */
  chance: number;
  chanceTopK: number;
  '3CosAdd': AnalogyScore;
  '3CosMul': AnalogyScore;
}

export interface AnalogyOptions {
  /** Top-k accuracy is reported besides top-1 (default 5). */
  k?: number;
  /**
   * Only the first N rows (the N most frequent words in tables trained here or read from the usual
   * files) are candidates, and questions with a word outside them are skipped — word2vec's
   * compute-accuracy threshold, gensim's `restrict_vocab`. Default: every row.
   */
  restrictVocab?: number;
}

const ANALOGY_SPEC = { k: 'posint', restrictVocab: 'posint' } as const;

/**
 * Accuracy on questions a : b :: c : d with both 3CosAdd and 3CosMul (see `WordVectors.analogy`),
 * the three query words excluded from the answers. One pass computes cos(x, a), cos(x, b) and
 * cos(x, c) for every candidate x: on unit vectors 3CosAdd ranks by cos(x,b) − cos(x,a) + cos(x,c),
 * the same order as cos(x, b − a + c).
 */
export function analogyAccuracy(wv: WordVectors, questions: readonly AnalogyQuestion[], options: AnalogyOptions = {}): AnalogyResult {
  const op = 'analogyAccuracy';
  checkOptions(op, options, ANALOGY_SPEC);
  if (!Array.isArray(questions)) throw new Error(`Kiln: ${op}: questions must be an array of [a, b, c, d], got ${typeof questions}`);
  const k = options.k ?? 5;
  const n = Math.min(wv.size, options.restrictVocab ?? wv.size);
  const unk = wv.unk === null ? -1 : wv.indexOf(wv.unk);
  const candidates = n - (unk >= 0 && unk < n ? 1 : 0);
  if (candidates < 4) throw new Error(`Kiln: ${op}: needs at least 4 candidate words, got ${candidates} (restrictVocab ${options.restrictVocab ?? 'none'})`);
  const u = wv.unitVectors(), d = wv.dim;
  const score = (): AnalogyScore => ({ correct: 0, correctTopK: 0, accuracy: 0, accuracyTopK: 0 });
  const add = score(), mul = score();
  const s = new Float64Array(n);
  const index = (w: string): number => {
    if (!wv.has(w)) return -1;
    const i = wv.indexOf(w);
    return i < n && i !== unk ? i : -1;
  };
  // questions built from pairs share their words: the cosines of each query word are computed once
  const cache = new Map<number, Float32Array>();
  const cosAll = (i: number): Float32Array => {
    let out = cache.get(i);
    if (out) return out;
    if (cache.size >= 4096) cache.clear();
    out = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let t = 0;
      for (let j = 0; j < d; j++) t += u[r * d + j]! * u[i * d + j]!;
      out[r] = t;
    }
    cache.set(i, out);
    return out;
  };
  // rank of the expected row: how many allowed candidates score strictly higher
  const rank = (want: number, skip: readonly number[]): number => {
    const target = s[want]!;
    let above = 0;
    for (let r = 0; r < n; r++) if (s[r]! > target && r !== unk && !skip.includes(r)) above++;
    return above;
  };
  let total = 0;
  for (const q of questions) {
    if (!Array.isArray(q) || q.length !== 4 || q.some((w) => typeof w !== 'string')) throw new Error(`Kiln: ${op}: each question must be [a, b, c, d] strings, got ${JSON.stringify(q)}`);
    const [ia, ib, ic, id] = q.map(index) as [number, number, number, number];
    if (ia < 0 || ib < 0 || ic < 0 || id < 0) continue;
    total++;
    const ca = cosAll(ia), cb = cosAll(ib), cc = cosAll(ic);
    const skip = [ia, ib, ic];
    for (let r = 0; r < n; r++) s[r] = cb[r]! - ca[r]! + cc[r]!;
    const rAdd = rank(id, skip);
    for (let r = 0; r < n; r++) s[r] = (((cb[r]! + 1) / 2) * ((cc[r]! + 1) / 2)) / ((ca[r]! + 1) / 2 + 1e-3);
    const rMul = rank(id, skip);
    if (rAdd === 0) add.correct++;
    if (rAdd < k) add.correctTopK++;
    if (rMul === 0) mul.correct++;
    if (rMul < k) mul.correctTopK++;
  }
  for (const x of [add, mul]) { x.accuracy = total ? x.correct / total : 0; x.accuracyTopK = total ? x.correctTopK / total : 0; }
  const others = Math.max(1, candidates - 3);
  return { total, skipped: questions.length - total, candidates, k, chance: 1 / others, chanceTopK: Math.min(1, k / others), '3CosAdd': add, '3CosMul': mul };
}

export interface RankingResult {
  /** Pairs (x, y) with both words known. */
  total: number;
  /** Mean reciprocal rank of y among all the pairs' second words, by cosine with x. */
  mrr: number;
  /** Share of pairs whose y ranks first. */
  top1: number;
  /** Expected MRR and top-1 of a random ranking of the same candidates. */
  chanceMrr: number;
  chanceTop1: number;
}

/**
 * For each related pair (x, y) — country → capital, singular → plural — ranks the true y among
 * all the second words by cosine similarity with x.
 */
export function similarityRanking(wv: WordVectors, pairs: readonly (readonly [string, string])[]): RankingResult {
  const known = pairs.filter(([x, y]) => wv.has(x) && wv.has(y));
  const ys = [...new Set(known.map(([, y]) => y))];
  if (ys.length < 2) throw new Error(`Kiln: similarityRanking: needs at least 2 known pairs with distinct second words, got ${known.length} of ${pairs.length}`);
  let mrr = 0, top1 = 0;
  for (const [x, y] of known) {
    const s = wv.similarity(x, y);
    let rank = 1;
    for (const z of ys) if (z !== y && wv.similarity(x, z) > s) rank++;
    mrr += 1 / rank;
    if (rank === 1) top1++;
  }
  let h = 0;
  for (let r = 1; r <= ys.length; r++) h += 1 / r;
  return { total: known.length, mrr: mrr / known.length, top1: top1 / known.length, chanceMrr: h / ys.length, chanceTop1: 1 / ys.length };
}

/** Ranks of `x` (1-based, ties share their mean rank). */
function ranks(x: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const r = new Float64Array(x.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && x[idx[j + 1]!] === x[idx[i]!]) j++;
    for (let t = i; t <= j; t++) r[idx[t]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's ρ of two equally long lists (Pearson's correlation of their ranks, ties averaged). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length || x.length < 2) throw new Error(`Kiln: spearman: needs two lists of the same length >= 2, got ${x.length} and ${y.length}`);
  const rx = ranks(x), ry = ranks(y), n = x.length, m = (n + 1) / 2;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxy += (rx[i]! - m) * (ry[i]! - m); sxx += (rx[i]! - m) ** 2; syy += (ry[i]! - m) ** 2; }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

export interface SimilarityResult {
  /** Pairs with both words known, and pairs left out. */
  total: number;
  skipped: number;
  /** Spearman's ρ between cosine similarity and the pairs' scores. */
  rho: number;
  /** ρ's standard deviation for vectors unrelated to the scores (ρ ≈ N(0, 1/(n−1)) under independence); chance is ρ = 0. */
  chanceSd: number;
}

/** Spearman correlation of cosine similarity with graded pair scores (e.g. 2 synonyms, 1 hypernym, 0 random pairs), pairs with unknown words skipped. */
export function similarityCorrelation(wv: WordVectors, pairs: readonly (readonly [string, string, number])[]): SimilarityResult {
  const known = pairs.filter(([x, y]) => wv.has(x) && wv.has(y));
  if (known.length < 3) throw new Error(`Kiln: similarityCorrelation: needs at least 3 pairs of known words, got ${known.length} of ${pairs.length}`);
  const rho = spearman(known.map(([x, y]) => wv.similarity(x, y)), known.map(([, , s]) => s));
  return { total: known.length, skipped: pairs.length - known.length, rho, chanceSd: 1 / Math.sqrt(known.length - 1) };
}

/** Analogy questions from pairs of one relation: (a, b, c, d) for pairs (a, b) ≠ (c, d), at most `max` of them, in a fixed order. */
export function questionsFromPairs(pairs: readonly (readonly [string, string])[], max = 1000): [string, string, string, string][] {
  const out: [string, string, string, string][] = [];
  const n = pairs.length;
  // a deterministic spread over (i, j) rather than the first rows only
  for (let step = 1; step < n && out.length < max; step++) {
    for (let i = 0; i < n && out.length < max; i++) {
      const [a, b] = pairs[i]!, [c, d] = pairs[(i + step) % n]!;
      if (a !== c && b !== d) out.push([a, b, c, d]);
    }
  }
  return out;
}
