import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bleu, bleuDetails, fsum, sentenceBleu, type BleuSmoothing } from './bleu.js';

interface Case { name: string; maxN: number; smoothing: BleuSmoothing; candidates: string[][]; references: string[][][]; score: number }
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/bleu/corpus_bleu.json', import.meta.url), 'utf8')) as { nltk: string; cases: Case[] };

describe('bleu equals NLTK corpus_bleu', () => {
  it(`on every committed fixture (NLTK ${fixture.nltk}; methods none, 0–4; 1–4 references; orders 1–4)`, () => {
    let worst = 0, exact = 0;
    for (const c of fixture.cases) {
      const got = bleu(c.candidates, c.references, { maxN: c.maxN, smoothing: c.smoothing });
      const err = Math.abs(got - c.score) / Math.max(Math.abs(c.score), 1e-300);
      if (got === c.score) exact++;
      worst = Math.max(worst, err);
      if (!(err <= 1e-14)) throw new Error(`${c.name} [${c.smoothing}, maxN ${c.maxN}]: kiln ${got} vs nltk ${c.score}`);
    }
    console.log(`BLEU parity: ${fixture.cases.length} cases, ${exact} bit-identical, worst relative error ${worst.toExponential(2)}`);
    expect(fixture.cases.length).toBeGreaterThan(200);
    expect(new Set(fixture.cases.map((c) => c.smoothing))).toEqual(new Set(['none', 'method0', 'method1', 'method2', 'method3', 'method4']));
    expect(fixture.cases.some((c) => c.references.some((r) => r.length > 1))).toBe(true);
    expect(fixture.cases.some((c) => c.candidates.some((x) => x.length < 4))).toBe(true);
    expect(fixture.cases.filter((c) => c.score > 0.05 && c.score < 1).length).toBeGreaterThan(40);
  });

  it('by hand: clipping, brevity penalty, perfect match, no overlap', () => {
    // "the the the the the the the" vs "the cat is on the mat": clipped unigram precision 2/7
    const d = bleuDetails([['the', 'the', 'the', 'the', 'the', 'the', 'the']], [[['the', 'cat', 'is', 'on', 'the', 'mat']]], { maxN: 1 });
    expect(d.matches[0]).toBe(2); expect(d.totals[0]).toBe(7);
    expect(d.bleu).toBeCloseTo(2 / 7, 15);
    const ref = 'a b c d e f g h'.split(' ');
    expect(sentenceBleu(ref, [ref])).toBe(1);
    // half the reference: all n-grams match, BP = exp(1 − 8/4)
    expect(sentenceBleu(ref.slice(0, 4), [ref])).toBeCloseTo(Math.exp(-1), 15);
    expect(sentenceBleu(['x', 'y'], [ref], { smoothing: 'method1' })).toBe(0);
    expect(fsum([1e100, 1, -1e100, 1e-20])).toBe(1);
    expect(fsum([0.1, 0.1, 0.1])).toBe(0.30000000000000004);
  });

  it('rejects mismatched counts and bad options', () => {
    expect(() => bleu([['a']], [[['a']], [['b']]])).toThrow(/bleu: got 1 candidates but 2 reference lists/);
    expect(() => bleu([['a']], [[]])).toThrow(/references\[0\] must be a non-empty array/);
    expect(() => bleu(['a b'] as never, [[['a']]])).toThrow(/candidates\[0\] must be an array of string tokens/);
    expect(() => bleu([['a']], [[['a']]], { smoothing: 'method9' as never })).toThrow(/bleu.*smoothing/);
    expect(() => bleu([['a']], [[['a']]], { maxN: 0 })).toThrow(/bleu.*maxN/);
    expect(() => bleu([['a']], [[['a']]], { maxn: 2 } as never)).toThrow(/bleu.*maxn/);
  });
});
