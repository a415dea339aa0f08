/**
 * Autoregressive decoding: the key/value cache gives the same logits as recomputing the whole
 * prefix under a causal mask; greedy with and without the cache agree; beamSearch through the
 * step-function interface with width 1 is greedy, and wider beams score at least as well.
 */
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, manualSeed, noGrad } from '@kiln/tensor';
import { sequenceLogProb } from '../seq2seq/beam-search.js';
import { TransformerSeq2Seq } from './index.js';
import { BOS_ID, EOS_ID, padTokens } from './tasks.js';

function model(normFirst: boolean, positions: 'sinusoidal' | 'learned'): TransformerSeq2Seq {
  manualSeed(7);
  const m = new TransformerSeq2Seq(11, 13, { dModel: 16, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 24, padIdx: 0, normFirst, positions, generator: new Generator(3) });
  return m.eval();
}

describe('Transformer decoding with a key/value cache', () => {
  for (const [normFirst, positions] of [[false, 'sinusoidal'], [true, 'learned']] as const) {
    it(`cached steps equal full recomputation (normFirst=${normFirst}, ${positions} positions, padded source)`, () => {
      const m = model(normFirst, positions);
      const src = padTokens([[3, 4, 5, 6, 7], [8, 9, 3]]);
      const tgt = [[BOS_ID, 5, 9, 4, 11, 6, 3], [BOS_ID, 12, 3, 3, 7, 8, 10]];
      noGrad(() => {
        const memory = m.encode(src);
        const kp = m.srcPaddingMask(src);
        const full = m.decode(new Tensor(Int32Array.from(tgt.flat()), [2, 7], 'int32'), memory, kp).toArray() as number[][][];
        const cache = m.decoder.newCache();
        let worst = 0;
        for (let t = 0; t < 7; t++) {
          const step = m.decodeStep(new Tensor(Int32Array.of(tgt[0]![t]!, tgt[1]![t]!), [2, 1], 'int32'), memory, cache, kp).toArray() as number[][];
          for (let b = 0; b < 2; b++) step[b]!.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - full[b]![t]![j]!)); });
        }
        expect(cache.length).toBe(7);
        expect(cache.layers[1]!.self.key!.shape).toEqual([2, 4, 7, 4]);
        expect(cache.layers[1]!.cross.key!.shape).toEqual([2, 4, 5, 4]);
        console.log(`kv cache vs full recomputation: max |Δlogit| ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(1e-5);
      });
    });
  }

  it('greedy with the cache equals greedy recomputing the prefix; beam width 1 equals greedy; wider beams score ≥ greedy', () => {
    const m = model(false, 'sinusoidal');
    const srcs = [[3, 4, 5, 6], [7, 7, 8], [9, 10, 4, 5, 6, 3]];
    const src = padTokens(srcs);
    const cached = m.greedy(src, { bos: BOS_ID, eos: EOS_ID, maxLength: 9 });
    const recomputed = m.greedy(src, { bos: BOS_ID, eos: EOS_ID, maxLength: 9, cache: false });
    expect(cached).toEqual(recomputed);
    srcs.forEach((s, i) => {
      const one = m.beamSearch(s, { bos: BOS_ID, eos: EOS_ID, maxLength: 9, beamWidth: 1 })[0]!;
      expect(one.tokens).toEqual(cached[i]);
      const beams = m.beamSearch(s, { bos: BOS_ID, eos: EOS_ID, maxLength: 9, beamWidth: 4 });
      expect(beams.length).toBeGreaterThan(0);
      expect(beams[0]!.score).toBeGreaterThanOrEqual(one.score - 1e-9);
      // the beam's reported log probability is the model's
      const { step, state } = m.stepFunction(s, BOS_ID);
      const lp = sequenceLogProb(step, beams[0]!.tokens, { eos: EOS_ID, state, appendEos: beams[0]!.finished });
      expect(lp).toBeCloseTo(beams[0]!.logProb, 4);
    });
    expect(() => m.greedy(src, { bos: BOS_ID, eos: EOS_ID, maxLength: 0 })).toThrow(/TransformerSeq2Seq.greedy: .*maxLength/);
    expect(() => m.encode(new Tensor(Float32Array.of(1, 2), [1, 2], 'float32'))).toThrow(/TransformerSeq2Seq: src must be int32 tokens \[B, T\], got float32 \[1,2\]/);
  });
});
