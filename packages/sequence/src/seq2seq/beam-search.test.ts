import { describe, expect, it } from 'vitest';
import { Generator, Tensor } from '@kiln/tensor';
import { beamSearch, greedyDecode, normalizedScore, sequenceLogProb, type StepFunction } from './beam-search.js';

const EOS = 0;

/** A toy decoder whose next-token distribution is a fixed random function of the prefix. */
function randomTable(seed: number, V: number, eosBias = 0): StepFunction<string> {
  const dist = (prefix: readonly number[]): number[] => {
    let h = seed * 7919;
    for (const t of prefix) h = (h * 31 + t + 1) % 1_000_003;
    const g = new Generator(h);
    const z = Array.from({ length: V }, (_, v) => 2 * g.normal() + (v === EOS ? eosBias : 0));
    const m = Math.max(...z), lse = m + Math.log(z.reduce((a, x) => a + Math.exp(x - m), 0));
    return z.map((x) => x - lse);
  };
  // the state is the prefix read so far, written out: each call must get back the state of its
  // prefix without the token just chosen (as an RNN decoder would)
  return (prefixes, states) => {
    prefixes.forEach((p, i) => expect(states[i]).toBe(p.slice(0, -1).join(',')));
    return { logProbs: prefixes.map(dist), states: prefixes.map((p) => p.join(',')) };
  };
}

/** Every output of up to maxLength tokens, scored exhaustively. */
function exhaustive(step: StepFunction<string>, V: number, maxLength: number, alpha: number) {
  const all: { tokens: number[]; score: number; finished: boolean }[] = [];
  const walk = (prefix: number[], lp: number) => {
    if (prefix.length === maxLength) { all.push({ tokens: prefix, score: normalizedScore(lp, prefix.length, alpha), finished: false }); return; }
    const row = (step([prefix], [prefix.slice(0, -1).join(',')]).logProbs as number[][])[0]!;
    all.push({ tokens: prefix, score: normalizedScore(lp + row[EOS]!, prefix.length + 1, alpha), finished: true });
    for (let v = 1; v < V; v++) walk([...prefix, v], lp + row[v]!);
  };
  walk([], 0);
  return all.sort((a, b) => b.score - a.score);
}

describe('beamSearch', () => {
  it('finds the sequence greedy misses (toy decoder with a known best)', () => {
    // first token: a 0.55, b 0.45; after a: <eos> 0.4; after b: <eos> 0.9 → best "b" (0.405) beats greedy "a" (0.22)
    const table: Record<string, number[]> = { '': [0, 0.55, 0.45], '1': [0.4, 0.3, 0.3], '2': [0.9, 0.05, 0.05] };
    const step: StepFunction<null> = (prefixes) => ({
      logProbs: prefixes.map((p) => (table[p.join(',')] ?? [1, 0, 0]).map(Math.log)),
      states: prefixes.map(() => null),
    });
    const greedy = greedyDecode(step, { maxLength: 5, eos: EOS });
    expect(greedy.tokens).toEqual([1]);
    expect(greedy.logProb).toBeCloseTo(Math.log(0.22), 12);
    const beams = beamSearch(step, { beamWidth: 2, maxLength: 5, eos: EOS });
    expect(beams[0]!.tokens).toEqual([2]);
    expect(beams[0]!.logProb).toBeCloseTo(Math.log(0.405), 12);
    expect(beams[0]!.finished).toBe(true);
    expect(beams.map((b) => b.tokens)).toEqual([[2], [1]]);
    expect(beamSearch(step, { beamWidth: 1, maxLength: 5, eos: EOS })).toEqual([greedy]);
  });

  it('with a wide beam equals exhaustive search, n-best in order, for α = 0, 0.7, 1', () => {
    for (const seed of [1, 2, 3]) {
      const V = 4, maxLength = 4, step = randomTable(seed, V, -0.5);
      for (const alpha of [0, 0.7, 1]) {
        const want = exhaustive(step, V, maxLength, alpha);
        const got = beamSearch(step, { beamWidth: 200, maxLength, eos: EOS, lengthPenalty: alpha, nBest: 10, state: '' });
        expect(got.map((h) => h.tokens)).toEqual(want.slice(0, 10).map((h) => h.tokens));
        got.forEach((h, i) => {
          expect(h.score).toBeCloseTo(want[i]!.score, 12);
          expect(h.finished).toBe(want[i]!.finished);
          expect(h.logProb).toBeCloseTo(sequenceLogProb(step, h.tokens, { eos: EOS, state: '', appendEos: h.finished }), 12);
        });
      }
    }
  });

  it('beamWidth 1 is greedy (argmax each step, checked by hand); wider beams never score below greedy at α = 0', () => {
    for (const seed of [4, 5, 6, 7]) {
      const V = 6, step = randomTable(seed, V, 0.3);
      const prefix: number[] = [];
      let lp = 0, finished = false;
      while (prefix.length < 8) {
        const row = (step([prefix], [prefix.slice(0, -1).join(',')]).logProbs as number[][])[0]!;
        const v = row.indexOf(Math.max(...row));
        lp += row[v]!;
        if (v === EOS) { finished = true; break; }
        prefix.push(v);
      }
      const g = greedyDecode(step, { maxLength: 8, eos: EOS, state: '' });
      expect(g.tokens).toEqual(prefix);
      expect(g.finished).toBe(finished);
      expect(g.logProb).toBeCloseTo(lp, 12);
      expect(beamSearch(step, { beamWidth: 1, maxLength: 8, eos: EOS, state: '', lengthPenalty: 0.7 })[0]!.tokens).toEqual(prefix);
      const b5 = beamSearch(step, { beamWidth: 5, maxLength: 8, eos: EOS, state: '' });
      expect(b5).toHaveLength(5);
      expect(b5[0]!.score).toBeGreaterThanOrEqual(g.score - 1e-12);
    }
  });

  it('length normalisation favours longer outputs as α grows', () => {
    const step = randomTable(11, 5, 0.5);
    const mean = (a: number) => {
      const hs = beamSearch(step, { beamWidth: 8, maxLength: 10, eos: EOS, state: '', lengthPenalty: a });
      return hs[0]!.tokens.length;
    };
    expect(mean(1)).toBeGreaterThanOrEqual(mean(0));
  });

  it('accepts logProbs as a [n, V] tensor', () => {
    const step = randomTable(3, 4);
    const asTensor: StepFunction<string> = (p, s) => {
      const r = step(p, s);
      return { logProbs: new Tensor(Float64Array.from((r.logProbs as number[][]).flat()), [p.length, 4], 'float64'), states: r.states };
    };
    expect(beamSearch(asTensor, { beamWidth: 3, maxLength: 5, eos: EOS, state: '' })).toEqual(beamSearch(step, { beamWidth: 3, maxLength: 5, eos: EOS, state: '' }));
  });

  it('rejects bad input with clear errors', () => {
    const step = randomTable(1, 3);
    expect(() => beamSearch(step, { beamWidth: 0, maxLength: 5, eos: 0 })).toThrow(/beamSearch: beamWidth must be an integer ≥ 1, got 0/);
    expect(() => beamSearch(step, { beamWidth: 2.5, maxLength: 5, eos: 0 })).toThrow(/beamSearch.*beamWidth/);
    expect(() => beamSearch(step, { beamWidth: 2, maxLength: 0, eos: 0 })).toThrow(/beamSearch: maxLength must be an integer ≥ 1, got 0/);
    expect(() => beamSearch(step, { beamWidth: 2, maxLength: 3 } as never)).toThrow(/beamSearch: eos .* is required/);
    expect(() => beamSearch(step, { beamWidth: 2, maxLength: 3, eos: 0, nBest: 3 })).toThrow(/nBest must be in 1..beamWidth \(2\), got 3/);
    expect(() => beamSearch(step, { beamWidth: 2, maxLength: 3, eos: 0, lengthPenalty: -1 })).toThrow(/lengthPenalty must be ≥ 0/);
    expect(() => beamSearch(step, { beamWidth: 2, maxLength: 3, eos: 0, beam: 2 } as never)).toThrow(/beamSearch.*beam/);
    // a width given to greedyDecode used to be replaced by 1 without a word
    expect(() => greedyDecode(step, { beamWidth: 4, maxLength: 3, eos: 0 } as never)).toThrow(/^Kiln: greedyDecode: option 'beamWidth' does not apply to greedy decoding \(width 1\), got 4; use beamSearch$/);
    expect(() => beamSearch('x' as never, { beamWidth: 2, maxLength: 3, eos: 0 })).toThrow(/beamSearch: step must be a function/);
    expect(() => greedyDecode(step, { maxLength: 0, eos: 0 })).toThrow(/greedyDecode: maxLength/);
    expect(() => beamSearch(step, { beamWidth: 2, maxLength: 3, eos: 3, state: '' })).toThrow(/beamSearch: eos = 3 is outside the step's vocabulary of 3/);
    const bad: StepFunction<null> = () => ({ logProbs: [[0, 0]], states: [null, null] });
    expect(() => beamSearch(bad, { beamWidth: 2, maxLength: 3, eos: 0 })).toThrow(/step returned 2 states for 1 hypotheses/);
  });
});
