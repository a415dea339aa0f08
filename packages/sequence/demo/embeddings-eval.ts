/**
 * The analogy and similarity table of the embeddings demo: per relation, coverage, top-1 and top-k
 * accuracy of 3CosAdd and 3CosMul, and what a uniform guess would score; then Spearman's ρ of
 * cosine similarity against WordNet's graded pairs. Shared by the demo and the WordNet test.
 */
import { analogyAccuracy, questionsFromPairs, similarityCorrelation, type AnalogyResult, type SimilarityResult, type WordVectors } from '@kiln/sequence';
import { analogyRelations, wordnetSimilarityPairs } from './embeddings-data.js';

export interface RelationRow {
  relation: string;
  /** Pairs of the relation, and those with both words among the candidate rows. */
  pairs: number;
  covered: number;
  result: AnalogyResult;
}

export interface EvaluationOptions {
  /** Candidates: the N most frequent words (default: the whole table). */
  restrictVocab?: number;
  /** Questions per relation (default 1000). */
  maxQuestions?: number;
  k?: number;
  /** The relations to ask (default: all of `analogyRelations()`). */
  relations?: [string, [string, string][]][];
}

export function evaluateAnalogies(wv: WordVectors, options: EvaluationOptions = {}): RelationRow[] {
  const n = options.restrictVocab ?? wv.size;
  const row = (w: string) => (wv.has(w) ? wv.indexOf(w) : Infinity);
  return (options.relations ?? analogyRelations()).map(([relation, pairs]) => {
    const known = pairs.filter(([a, b]) => row(a) < n && row(b) < n);
    const result = analogyAccuracy(wv, questionsFromPairs(known, options.maxQuestions ?? 1000), { restrictVocab: n, k: options.k ?? 5 });
    return { relation, pairs: pairs.length, covered: known.length, result };
  });
}

/** All relations together: questions and correct answers summed (a micro-average, as word2vec's compute-accuracy reports). */
export function overall(rows: readonly RelationRow[]): { total: number; add1: number; add5: number; mul1: number; mul5: number; chance: number; chanceTopK: number } {
  const total = rows.reduce((s, r) => s + r.result.total, 0);
  const sum = (f: (r: AnalogyResult) => number) => rows.reduce((s, r) => s + f(r.result), 0) / Math.max(1, total);
  const c = rows.find((r) => r.result.total > 0)?.result;
  return {
    total, add1: sum((r) => r['3CosAdd'].correct), add5: sum((r) => r['3CosAdd'].correctTopK), mul1: sum((r) => r['3CosMul'].correct), mul5: sum((r) => r['3CosMul'].correctTopK),
    chance: c?.chance ?? 0, chanceTopK: c?.chanceTopK ?? 0,
  };
}

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)}%`;

/** A Markdown table of the rows plus the overall line. */
export function formatAnalogyTable(rows: readonly RelationRow[]): string {
  const k = rows[0]?.result.k ?? 5;
  const lines = [
    `| relation | pairs covered / all | questions | 3CosAdd top-1 | 3CosAdd top-${k} | 3CosMul top-1 | 3CosMul top-${k} | chance top-1 / top-${k} |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const x = r.result;
    lines.push(`| ${r.relation} | ${r.covered} / ${r.pairs} | ${x.total} | ${pct(x['3CosAdd'].accuracy)} | ${pct(x['3CosAdd'].accuracyTopK)} | ${pct(x['3CosMul'].accuracy)} | ${pct(x['3CosMul'].accuracyTopK)} | ${pct(x.chance, 3)} / ${pct(x.chanceTopK, 3)} |`);
  }
  const o = overall(rows);
  lines.push(`| **all** | | ${o.total} | ${pct(o.add1)} | ${pct(o.add5)} | ${pct(o.mul1)} | ${pct(o.mul5)} | ${pct(o.chance, 3)} / ${pct(o.chanceTopK, 3)} |`);
  return lines.join('\n');
}

/** Spearman's ρ on WordNet pairs (synonyms 2, noun → hypernym 1, random 0) among the candidate rows. */
export function evaluateSimilarity(wv: WordVectors, restrictVocab = wv.size, perKind = 500): SimilarityResult {
  return similarityCorrelation(wv, wordnetSimilarityPairs((w) => wv.has(w) && wv.indexOf(w) < restrictVocab, perKind));
}
