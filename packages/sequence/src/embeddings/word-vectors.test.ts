import { describe, expect, it } from 'vitest';
import { WordVectors, analogyAccuracy, similarityRanking, questionsFromPairs, spearman } from '../index.js';

// Hand-made 3-D vectors: x = royalty, y = gender (+ female), z = noise.
const WORDS = ['<unk>', 'king', 'queen', 'man', 'woman', 'prince', 'princess', 'apple'];
const VECS = [
  0, 0, 0,
  1, -1, 0.1,
  1, 1, 0.1,
  0.1, -1, 0,
  0.1, 1, 0,
  0.8, -1, 1,
  0.8, 1, 1,
  -1, 0, 1,
];
const wv = new WordVectors(WORDS, VECS, 3);

describe('WordVectors', () => {
  it('cosine similarity by hand', () => {
    const c = (1 * 0.1 + 1 * 1 + 0.1 * 0) / (Math.hypot(1, -1, 0.1) * Math.hypot(0.1, -1, 0));
    expect(wv.similarity('king', 'man')).toBeCloseTo(c, 6);
    expect(wv.similarity('apple', 'apple')).toBeCloseTo(1, 6);
  });

  it('mostSimilar excludes the word itself and <unk>, sorted by cosine', () => {
    const n = wv.mostSimilar('king', 3);
    expect(n.map((x) => x.word)).toEqual(['prince', 'man', 'queen']);
    expect(n[0]!.score).toBeGreaterThanOrEqual(n[1]!.score);
    expect(wv.mostSimilar('king', 7).map((x) => x.word)).not.toContain('<unk>');
  });

  it('analogy: man : king :: woman : queen with 3CosAdd and 3CosMul, query words never returned', () => {
    expect(wv.analogy('man', 'king', 'woman')[0]!.word).toBe('queen');
    expect(wv.analogy('man', 'king', 'woman', { method: '3CosMul' })[0]!.word).toBe('queen');
    const all = wv.analogy('man', 'king', 'woman', { k: 5 }).map((x) => x.word);
    for (const q of ['man', 'king', 'woman']) expect(all).not.toContain(q);
    const qs = questionsFromPairs([['man', 'woman'], ['king', 'queen'], ['prince', 'princess']]);
    expect(qs.length).toBe(6);
    const acc = analogyAccuracy(wv, [...qs, ['man', 'woman', 'dog', 'cat']]);
    expect(acc.total).toBe(6);
    expect(acc.skipped).toBe(1);
    expect(acc['3CosAdd'].accuracy).toBeGreaterThan(acc.chance);
    expect(acc['3CosMul'].accuracyTopK).toBeGreaterThanOrEqual(acc['3CosMul'].accuracy);
    // candidates: every row but <unk>; a uniform guess among those that are not query words
    expect(acc.chance).toBeCloseTo(1 / (acc.candidates - 3), 12);
    expect(acc.chanceTopK).toBeCloseTo(Math.min(1, 5 / (acc.candidates - 3)), 12);
    expect(() => analogyAccuracy(wv, qs, { k: 0 })).toThrow(/analogyAccuracy/);
  });

  it('spearman: rank correlation with ties averaged', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks of [1, 1, 2] are [1.5, 1.5, 3]; of [1, 2, 3] are [1, 2, 3]: ρ = 1.5/√(1.5·2)
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(1.5 / Math.sqrt(1.5 * 2), 12);
    expect(() => spearman([1], [1])).toThrow(/spearman/);
  });

  it('similarityRanking: related pairs outrank the others', () => {
    const r = similarityRanking(wv, [['king', 'prince'], ['queen', 'princess'], ['apple', 'apple']]);
    expect(r.total).toBe(3);
    expect(r.top1).toBe(1);
    expect(r.chanceMrr).toBeCloseTo((1 + 1 / 2 + 1 / 3) / 3, 12);
  });

  it('unknown words: <unk> row for lookups, errors for queries and without an unk row', () => {
    expect(Array.from(wv.vector('zebra'))).toEqual([0, 0, 0]);
    expect(() => wv.similarity('zebra', 'king')).toThrow(/Kiln: WordVectors.similarity: unknown word "zebra"/);
    expect(() => wv.mostSimilar('zebra')).toThrow(/unknown word "zebra"/);
    expect(() => wv.analogy('man', 'king', 'zebra')).toThrow(/WordVectors.analogy: unknown word "zebra"/);
    const noUnk = wv.subset(['king', 'queen', 'man']);
    expect(() => noUnk.vector('zebra')).toThrow(/unknown word "zebra" .*no unk row/);
  });

  it('bad tables are errors', () => {
    expect(() => new WordVectors(['a', 'b'], [1, 2, 3], 2)).toThrow(/2 words × dim 2 need 4 values, got 3/);
    expect(() => new WordVectors(['a', 'a'], [1, 2], 1)).toThrow(/"a" appears twice/);
    expect(() => new WordVectors(['a', 'b'], [1, Number.NaN], 1)).toThrow(/row 1 \("b"\).*not finite/);
    expect(() => wv.analogy('man', 'king', 'woman', { metod: '3CosMul' } as never)).toThrow(/WordVectors.analogy: unknown option 'metod'/);
    expect(() => wv.analogy('man', 'king', 'woman', { method: 'cos' as never })).toThrow(/method must be '3CosAdd' or '3CosMul'/);
    expect(() => wv.mostSimilar('king', 0)).toThrow(/k must be an integer >= 1, got 0/);
  });

  it('toEmbedding copies rows (unk for missing words) and can freeze them', () => {
    const emb = wv.toEmbedding({ words: ['<pad>', 'queen', 'zebra'], freeze: true, paddingIdx: 0 });
    expect(Array.from(emb.weight.dataSync())).toEqual([0, 0, 0, 1, 1, Math.fround(0.1), 0, 0, 0]);
    expect(emb.weight.requiresGrad).toBe(false);
  });
});
