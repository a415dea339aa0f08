import { describe, expect, it } from 'vitest';
import { beamSearch, greedyDecode, sequenceLogProb, type StepFunction } from './beam-search.js';
import { attributeError, errorAnalysis } from './error-analysis.js';

// toy decoder: first token a 0.55 / b 0.45; after a: <eos> 0.4; after b: <eos> 0.9 (greedy finds "a", the best is "b")
const table: Record<string, number[]> = { '': [0, 0.55, 0.45], '1': [0.4, 0.3, 0.3], '2': [0.9, 0.05, 0.05] };
const step: StepFunction<null> = (prefixes) => ({ logProbs: prefixes.map((p) => (table[p.join(',')] ?? [1, 0, 0]).map(Math.log)), states: prefixes.map(() => null) });
const lp = (tokens: readonly number[]) => sequenceLogProb(step, tokens, { eos: 0, state: null });

describe('error analysis', () => {
  it('blames the search when the model prefers the reference, the model when it prefers the output', () => {
    const greedy = greedyDecode(step, { maxLength: 4, eos: 0, state: null }).tokens; // [1]
    const beam = beamSearch(step, { beamWidth: 2, maxLength: 4, eos: 0, state: null })[0]!.tokens; // [2]
    expect(attributeError([2], greedy, lp([2]), lp(greedy))).toBe('beam'); // P(y*) = 0.405 > P(ŷ) = 0.22
    expect(attributeError([1], beam, lp([1]), lp(beam))).toBe('model'); // the reference "a" is less likely than "b"
    expect(attributeError([2], beam, lp([2]), lp(beam))).toBe('none');
    // α changes the verdict: "a a" (0.55·0.3·1 = 0.165 over 3 tokens) vs "b b" (0.45·0.05·1 = 0.0225)
    expect(attributeError([1, 1], [2, 2], Math.log(0.165), Math.log(0.0225))).toBe('beam');
    expect(attributeError([1], [2, 2, 2, 2], Math.log(0.2), Math.log(0.1), { lengthPenalty: 1 })).toBe('model');
    expect(attributeError([1], [2, 2, 2, 2], Math.log(0.2), Math.log(0.1), { lengthPenalty: 0 })).toBe('beam');
  });

  it('aggregates over a dev set', () => {
    const dev = [
      { reference: [2], output: [1] }, // beam
      { reference: [2], output: [2] }, // correct
      { reference: [1], output: [2] }, // model
      { reference: [1, 1], output: [2] }, // model: 0.55·0.3·1 = 0.165 < 0.405
      { reference: [2], output: [1, 1] }, // beam
      { reference: [2], output: [2, 1] }, // beam: 0.45·0.05·1 < 0.405
    ];
    const r = errorAnalysis(dev, (t) => lp(t));
    expect(r.cases.map((c) => c.fault)).toEqual(['beam', 'none', 'model', 'model', 'beam', 'beam']);
    expect([r.correct, r.beamErrors, r.modelErrors]).toEqual([1, 3, 2]);
    expect(r.beamFraction).toBeCloseTo(0.6, 12);
    expect(r.verdict).toBe('beam search');
    expect(r.cases[0]!.referenceLogProb).toBeCloseTo(Math.log(0.405), 12);
    expect(r.cases[0]!.outputLogProb).toBeCloseTo(Math.log(0.22), 12);
    expect(errorAnalysis([{ reference: [2], output: [2] }], (t) => lp(t)).verdict).toBe('none');
  });

  it('rejects bad input', () => {
    expect(() => errorAnalysis([{ reference: [1] } as never], () => 0)).toThrow(/errorAnalysis: examples\[0\] must have reference and output/);
    expect(() => errorAnalysis([], 3 as never)).toThrow(/errorAnalysis: logProb must be a function/);
    expect(() => attributeError([1], [2], NaN, 0)).toThrow(/attributeError: log probabilities must be numbers/);
    expect(() => errorAnalysis([], () => 0, { alpha: 1 } as never)).toThrow(/errorAnalysis.*alpha/);
  });
});
