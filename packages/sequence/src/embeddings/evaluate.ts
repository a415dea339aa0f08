/** Intrinsic evaluation: analogy accuracy and a similarity-ranking check, with their chance levels. */
import { WordVectors, type AnalogyMethod } from './word-vectors.js';

export interface AnalogyResult {
  correct: number;
  /** Questions whose four words are all in the table. */
  total: number;
  skipped: number;
  accuracy: number;
  /** Accuracy of guessing uniformly among the words that are not query words. */
  chance: number;
}

/** Accuracy on questions a : b :: c : d (top-1 answer, query words excluded). */
export function analogyAccuracy(wv: WordVectors, questions: readonly (readonly [string, string, string, string])[], method: AnalogyMethod = '3CosAdd'): AnalogyResult {
  let correct = 0, total = 0;
  for (const [a, b, c, d] of questions) {
    if (![a, b, c, d].every((w) => wv.has(w))) continue;
    total++;
    if (wv.analogy(a, b, c, { method })[0]?.word === d) correct++;
  }
  return { correct, total, skipped: questions.length - total, accuracy: total ? correct / total : 0, chance: 1 / Math.max(1, wv.size - 4) };
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
