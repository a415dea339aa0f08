import { describe, expect, it } from 'vitest';
import { Generator, randn, tensor, type Tensor } from '@kiln/tensor';
import { ctcBeamSearch, ctcGreedyDecode } from './decode.js';
import { ctcLoss } from './loss.js';

/** Every labelling reachable in `Tn` frames of sequence n, with log Σ over its alignments (brute force over C^Tn paths). */
function allLabellings(lp: Tensor, n: number, Tn: number, blank: number): Array<{ labels: number[]; logProb: number }> {
  const [, N, C] = lp.shape as [number, number, number];
  const d = lp.dataSync();
  const sums = new Map<string, number>();
  const path = new Array<number>(Tn);
  for (let k = 0; k < C ** Tn; k++) {
    let r = k;
    let s = 0;
    for (let t = 0; t < Tn; t++) {
      path[t] = r % C;
      r = Math.floor(r / C);
      s += d[(t * N + n) * C + path[t]!]!;
    }
    const labels = path.filter((c, t) => c !== blank && (t === 0 || path[t - 1] !== c));
    const key = labels.join(',');
    sums.set(key, (sums.get(key) ?? 0) + Math.exp(s));
  }
  return [...sums].map(([key, p]) => ({ labels: key === '' ? [] : key.split(',').map(Number), logProb: Math.log(p) }))
    .sort((a, b) => b.logProb - a.logProb);
}

function randomLogProbs(T: number, N: number, C: number, seed: number, scale: number): Tensor {
  return randn([T, N, C], { generator: new Generator(seed), dtype: 'float64' }).mul(scale).logSoftmax(2);
}

describe('ctcBeamSearch (prefix beam search)', () => {
  it('with a beam wide enough for every prefix, finds the most probable labelling and its exact probability (brute force)', () => {
    let checked = 0;
    for (const [T, C, blank, scale] of [[5, 3, 0, 1], [4, 4, 0, 2], [5, 3, 2, 0.5], [6, 3, 1, 1.5]] as const) {
      const lp = randomLogProbs(T, 3, C, 100 + T * C + blank, scale);
      const lengths = [T, T - 1, 2];
      const got = ctcBeamSearch(lp, { beamWidth: 2000, nBest: 5, blank, inputLengths: lengths });
      lengths.forEach((Tn, n) => {
        const want = allLabellings(lp, n, Tn, blank).slice(0, 5);
        expect(got[n]!.map((h) => h.labels)).toEqual(want.map((h) => h.labels));
        got[n]!.forEach((h, i) => expect(Math.abs(h.logProb - want[i]!.logProb)).toBeLessThan(1e-12));
        checked++;
      });
    }
    expect(checked).toBe(12);
  });

  it('its scores are CTC probabilities: logProb = −ctcLoss of the decoded labels', () => {
    const lp = randomLogProbs(7, 2, 4, 5, 2);
    const hyps = ctcBeamSearch(lp, { beamWidth: 4 ** 7, nBest: 3 });
    hyps.forEach((list, n) => list.forEach((h) => {
      if (h.labels.length === 0) return;
      const one = lp.narrow(1, n, 1);
      const nll = ctcLoss(one, tensor([h.labels], { dtype: 'int32' }), [7], [h.labels.length], { reduction: 'sum' }).item();
      expect(Math.abs(-nll - h.logProb)).toBeLessThan(1e-10);
    }));
  });

  it('beats best-path decoding where many alignments share a labelling', () => {
    // Two frames of p(blank) = 0.4, p(1) = 0.35, p(2) = 0.25: the best path is blank-blank (""), p = 0.16,
    // but "1" collects 0.35² + 2·0.35·0.4 = 0.4025 over its three alignments.
    const lp = tensor([[[0.4, 0.35, 0.25]], [[0.4, 0.35, 0.25]]], { dtype: 'float64' }).log();
    expect(ctcGreedyDecode(lp)).toEqual([[]]);
    const [best] = ctcBeamSearch(lp, { beamWidth: 3 })[0]!;
    expect(best!.labels).toEqual([1]);
    expect(Math.exp(best!.logProb)).toBeCloseTo(0.4025, 12);
  });

  it('a narrow beam never scores above the exact best; pruning drops unlikely labels', () => {
    const lp = randomLogProbs(6, 4, 4, 9, 1);
    const narrow = ctcBeamSearch(lp, { beamWidth: 2 });
    narrow.forEach((list, n) => expect(list[0]!.logProb).toBeLessThanOrEqual(allLabellings(lp, n, 6, 0)[0]!.logProb + 1e-12));
    // Peaked frames: pruning below log(0.01) changes nothing the beam would keep, and labels under the threshold never appear.
    const peaked = randomLogProbs(6, 4, 5, 10, 6);
    const full = ctcBeamSearch(peaked, { beamWidth: 8 });
    expect(ctcBeamSearch(peaked, { beamWidth: 8, pruneLogProb: Math.log(0.01) }).map((l) => l[0]!.labels)).toEqual(full.map((l) => l[0]!.labels));
    const pruned = ctcBeamSearch(peaked, { beamWidth: 8, nBest: 8, pruneLogProb: -0.5 });
    const d = peaked.dataSync();
    pruned.forEach((list, n) => list.forEach((h) => h.labels.forEach((c) => {
      expect([0, 1, 2, 3, 4, 5].some((t) => d[(t * 4 + n) * 5 + c]! >= -0.5)).toBe(true);
    })));
  });

  it('unbatched [T, C] input and a beam width of 1', () => {
    const lp = randomLogProbs(5, 1, 3, 3, 3);
    const flat = lp.reshape([5, 3]);
    expect(ctcBeamSearch(flat, { beamWidth: 50 })).toEqual(ctcBeamSearch(lp, { beamWidth: 50 }));
    expect(ctcBeamSearch(flat, { beamWidth: 1 })[0]!).toHaveLength(1);
  });

  it('bad input: errors name the function, the argument and the value', () => {
    const lp = randomLogProbs(3, 2, 3, 1, 1);
    expect(() => ctcBeamSearch(lp, { beamWidth: 0 })).toThrow("Kiln: ctcBeamSearch: option 'beamWidth' must be a positive integer, got 0");
    expect(() => ctcBeamSearch(lp, { beamWidth: 2, nBest: 3 })).toThrow('Kiln: ctcBeamSearch: nBest = 3 exceeds beamWidth = 2 (the beam holds at most beamWidth hypotheses)');
    expect(() => ctcBeamSearch(lp, { beam: 3 } as never)).toThrow(/^Kiln: ctcBeamSearch: unknown option 'beam' \(known: blank, inputLengths, beamWidth, nBest, pruneLogProb\)$/);
    expect(() => ctcBeamSearch(lp.reshape([3, 2, 3, 1]))).toThrow('Kiln: ctcBeamSearch: logProbs must be [T, N, C] (or [T, C] unbatched), got [3,2,3,1]');
    expect(() => ctcBeamSearch(lp, { inputLengths: [3] })).toThrow('Kiln: ctcBeamSearch: inputLengths has 1 entries, expected 2 (the batch size of logProbs)');
    expect(() => ctcBeamSearch(lp, { inputLengths: [3, 4] })).toThrow('Kiln: ctcBeamSearch: inputLengths[1] = 4 exceeds T = 3 (logProbs [3,2,3])');
    expect(() => ctcGreedyDecode(lp, { blank: 3 })).toThrow('Kiln: ctcGreedyDecode: blank = 3 is not a class of logProbs [3,2,3] (C = 3)');
    expect(() => ctcGreedyDecode(lp, { inputLengths: tensor([3, 3]) })).toThrow('Kiln: ctcGreedyDecode: inputLengths must hold integers (an int32 Tensor or an array), got a float32 Tensor [2]');
    expect(() => ctcGreedyDecode(lp, { inputLengths: 'all' } as never)).toThrow("Kiln: ctcGreedyDecode: option 'inputLengths' must be an int32 Tensor or an array of integers, got 'all'");
  });
});

describe('ctcGreedyDecode', () => {
  it('merges repeats, drops blanks, keeps a repeat split by a blank, and stops at each sequence\'s length', () => {
    // frames' best classes — sequence 0: 1 1 0 1 2 2 0 ; sequence 1: 0 3 3 3 2 | 1 1 (length 5)
    const best = [[1, 0], [1, 3], [0, 3], [1, 3], [2, 2], [2, 1], [0, 1]];
    const lp = tensor(best.map((row) => row.map((c) => [0, 1, 2, 3].map((k) => (k === c ? -0.1 : -3)))), { dtype: 'float64' });
    expect(ctcGreedyDecode(lp, { inputLengths: [7, 5] })).toEqual([[1, 1, 2], [3, 2]]);
    expect(ctcGreedyDecode(lp)).toEqual([[1, 1, 2], [3, 2, 1]]);
    expect(ctcGreedyDecode(lp, { blank: 3 })).toEqual([[1, 0, 1, 2, 0], [0, 2, 1]]);
    expect(ctcGreedyDecode(lp.narrow(1, 0, 1).reshape([7, 4]))).toEqual([[1, 1, 2]]);
  });
});
