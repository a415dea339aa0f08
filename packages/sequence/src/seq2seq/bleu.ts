/**
 * BLEU (Papineni et al. 2002; course 5.3.1.2), corpus level, with NLTK's `corpus_bleu` semantics
 * so scores match it to the last bit on the committed fixtures:
 *
 *   p_n  = Σ_sentences Σ_ngram min(count_cand, max_ref count_ref) / Σ_sentences max(1, #cand n-grams)
 *   BP   = 1 if c > r, 0 if c = 0, else exp(1 − r/c)   (c = total candidate length,
 *          r = Σ each candidate's closest reference length, ties → the shorter)
 *   BLEU = BP · exp(Σ_n w_n log p_n),  w_n = 1/maxN
 *
 * If no unigram matches at all the score is 0. Smoothing (Chen & Cherry 2014, NLTK's names) decides
 * what a zero p_n becomes:
 * - 'none' / 'method0': the smallest positive double (so the score is ~0 but not 0, as in NLTK);
 * - 'method1': (0 + ε)/denominator, ε = 0.1;
 * - 'method2': (m + 1)/(l + 1) for every n ≥ 2 (add-one, zero or not);
 * - 'method3': 1/(2^k · denominator) for the k-th zero order (NIST geometric);
 * - 'method4': (1/(2^k · K / ln c))/denominator for zero orders when c > 1, K = 5.
 */
import { checkOptions } from '@kiln/tensor';

export type BleuSmoothing = 'none' | 'method0' | 'method1' | 'method2' | 'method3' | 'method4';
const SMOOTHINGS: readonly BleuSmoothing[] = ['none', 'method0', 'method1', 'method2', 'method3', 'method4'];

export interface BleuOptions {
  /** Highest n-gram order, weights 1/maxN each (default 4). */
  maxN?: number;
  /** How zero n-gram precisions are treated (default 'none'). */
  smoothing?: BleuSmoothing;
  /** ε of method1 (default 0.1). */
  epsilon?: number;
  /** K of method4 (default 5). */
  k?: number;
}

export interface BleuResult {
  bleu: number;
  /** The (unsmoothed) modified precision of each order: matches / candidate n-grams. */
  precisions: number[];
  matches: number[];
  totals: number[];
  brevityPenalty: number;
  candidateLength: number;
  referenceLength: number;
}

type Tokens = readonly string[];

function ngramCounts(tokens: Tokens, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0000');
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/** Exactly rounded sum of floats (Shewchuk's partials, as Python's math.fsum). */
export function fsum(values: readonly number[]): number {
  const partials: number[] = [];
  for (let x of values) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  // add the partials from the top, with Python's half-way correction
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n]!, lo = 0;
  while (n > 0) {
    const x = hi, y = partials[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2, x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

function checkCorpus(candidates: unknown, references: unknown): asserts candidates is Tokens[] {
  if (!Array.isArray(candidates)) throw new Error('Kiln: bleu: candidates must be an array of token arrays');
  if (!Array.isArray(references)) throw new Error('Kiln: bleu: references must be an array (one list of reference token arrays per candidate)');
  if (candidates.length !== references.length) {
    throw new Error(`Kiln: bleu: got ${candidates.length} candidates but ${references.length} reference lists; each candidate needs its own list of references`);
  }
  candidates.forEach((c, i) => {
    if (!Array.isArray(c) || c.some((t) => typeof t !== 'string')) throw new Error(`Kiln: bleu: candidates[${i}] must be an array of string tokens`);
    const refs = references[i] as unknown;
    if (!Array.isArray(refs) || refs.length === 0) throw new Error(`Kiln: bleu: references[${i}] must be a non-empty array of reference token arrays`);
    refs.forEach((r, j) => {
      if (!Array.isArray(r) || r.some((t) => typeof t !== 'string')) throw new Error(`Kiln: bleu: references[${i}][${j}] must be an array of string tokens`);
    });
  });
}

/** Corpus BLEU with the statistics behind it. */
export function bleuDetails(candidates: readonly Tokens[], references: readonly (readonly Tokens[])[], options: BleuOptions = {}): BleuResult {
  checkOptions('bleu', options, { maxN: 'posint', smoothing: SMOOTHINGS, epsilon: 'finite', k: 'finite' });
  checkCorpus(candidates, references);
  const maxN = options.maxN ?? 4, smoothing = options.smoothing ?? 'none';
  const epsilon = options.epsilon ?? 0.1, K = options.k ?? 5;
  const matches = new Array<number>(maxN).fill(0), totals = new Array<number>(maxN).fill(0);
  let c = 0, r = 0;
  candidates.forEach((cand, s) => {
    const refs = references[s]!;
    for (let n = 1; n <= maxN; n++) {
      const counts = ngramCounts(cand, n);
      const refCounts = refs.map((ref) => ngramCounts(ref, n));
      let clipped = 0, total = 0;
      for (const [g, cnt] of counts) {
        total += cnt;
        clipped += Math.min(cnt, Math.max(0, ...refCounts.map((m) => m.get(g) ?? 0)));
      }
      matches[n - 1]! += clipped;
      totals[n - 1]! += Math.max(1, total);
    }
    c += cand.length;
    let best = refs[0]!.length;
    for (const ref of refs) {
      const d = Math.abs(ref.length - cand.length), bd = Math.abs(best - cand.length);
      if (d < bd || (d === bd && ref.length < best)) best = ref.length;
    }
    r += best;
  });
  const brevityPenalty = c > r ? 1 : c === 0 ? 0 : Math.exp(1 - r / c);
  const precisions = matches.map((m, i) => m / totals[i]!);
  const base = { precisions, matches, totals, brevityPenalty, candidateLength: c, referenceLength: r };
  if (matches[0] === 0) return { bleu: 0, ...base };
  let k = 1;
  const p = matches.map((m, i) => {
    const d = totals[i]!;
    switch (smoothing) {
      case 'none': case 'method0': return m !== 0 ? m / d : 2 ** -1022; // sys.float_info.min, the smallest normal double
      case 'method1': return m === 0 ? (m + epsilon) / d : m / d;
      case 'method2': return i === 0 ? m / d : (m + 1) / (d + 1);
      case 'method3': return m === 0 ? 1 / (2 ** k++ * d) : m / d;
      case 'method4': return m === 0 && c > 1 ? 1 / ((2 ** k++ * K) / Math.log(c)) / d : m / d;
    }
  });
  const logs = p.filter((v) => v > 0).map((v) => (1 / maxN) * Math.log(v));
  return { bleu: brevityPenalty * Math.exp(fsum(logs)), ...base };
}

/**
 * Corpus BLEU of `candidates` (token arrays) against `references` (for each candidate, one or
 * more reference token arrays), in [0, 1]. Equal to NLTK's `corpus_bleu` with weights 1/maxN.
 */
export function bleu(candidates: readonly Tokens[], references: readonly (readonly Tokens[])[], options: BleuOptions = {}): number {
  return bleuDetails(candidates, references, options).bleu;
}

/** BLEU of one candidate against its references (NLTK's sentence_bleu: a corpus of one). */
export function sentenceBleu(candidate: Tokens, references: readonly Tokens[], options: BleuOptions = {}): number {
  return bleuDetails([candidate], [references], options).bleu;
}
