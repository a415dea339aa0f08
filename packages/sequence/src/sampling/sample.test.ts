import { describe, expect, it } from 'vitest';
import { Generator, Tensor } from '@kiln/tensor';
import { drawIndex, generate, samplingProbs, type StepModel } from '../index.js';

const softmax = (l: number[], t = 1) => {
  const m = Math.max(...l), e = l.map((v) => Math.exp((v - m) / t)), s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** A bigram model: the next-token logits depend only on the last token (table[last]). */
function bigram(table: number[][]): StepModel & { calls: number } {
  const v = table[0]!.length;
  return {
    calls: 0,
    forwardWithState(ids: Tensor, state: unknown): [Tensor, unknown] {
      this.calls++;
      const [b, t] = ids.shape as [number, number];
      const d = ids.dataSync(), out = new Float32Array(b * t * v);
      for (let i = 0; i < b * t; i++) out.set(table[d[i]!]!, i * v);
      return [new Tensor(out, [b, t, v], 'float32'), (state as number ?? 0) + t];
    },
  };
}

describe('samplingProbs', () => {
  const logits = [2, 1, 0.5, -1, 3];

  it('is the softmax at temperature 1, sharper below 1, flatter above, one-hot at 0', () => {
    expect(Array.from(samplingProbs(logits))).toEqual(softmax(logits).map((p) => expect.closeTo(p, 12)));
    expect(Array.from(samplingProbs(logits, { temperature: 0.5 }))).toEqual(softmax(logits, 0.5).map((p) => expect.closeTo(p, 12)));
    const hot = samplingProbs(logits, { temperature: 2 });
    expect(hot[4]!).toBeLessThan(softmax(logits)[4]!);
    expect(Array.from(samplingProbs(logits, { temperature: 0 }))).toEqual([0, 0, 0, 0, 1]);
    // a tiny temperature is greedy too
    expect(samplingProbs(logits, { temperature: 1e-4 })[4]).toBe(1);
    // ties at temperature 0 go to the lower id
    expect(Array.from(samplingProbs([1, 3, 3], { temperature: 0 }))).toEqual([0, 1, 0]);
  });

  it('top-k keeps the k most likely tokens, renormalised', () => {
    const p = samplingProbs(logits, { topK: 2 });
    const full = softmax(logits), z = full[4]! + full[0]!;
    expect(Array.from(p)).toEqual([full[0]! / z, 0, 0, 0, full[4]! / z].map((v) => expect.closeTo(v, 12)));
    expect(Array.from(samplingProbs(logits, { topK: 99 }))).toEqual(Array.from(samplingProbs(logits)));
  });

  it('top-p keeps the smallest most-likely set reaching p', () => {
    const full = softmax(logits); // ≈ [0.2275, 0.0837, 0.0508, 0.0113, 0.6184]
    const p = samplingProbs(logits, { topP: 0.8 }); // 0.618 < 0.8 ≤ 0.618 + 0.2275
    expect(Array.from(p, (v) => v > 0)).toEqual([true, false, false, false, true]);
    expect(p[4]!).toBeCloseTo(full[4]! / (full[4]! + full[0]!), 12);
    expect(Array.from(samplingProbs(logits, { topP: 0.5 }), (v) => v > 0)).toEqual([false, false, false, false, true]);
    // top-k and top-p together: the tighter one wins
    expect(Array.from(samplingProbs(logits, { topP: 0.95, topK: 2 }), (v) => v > 0)).toEqual([true, false, false, false, true]);
  });

  it('rejects bad options and logits', () => {
    expect(() => samplingProbs(logits, { temperature: -1 })).toThrow('Kiln: samplingProbs: temperature must be a finite number >= 0, got -1');
    expect(() => samplingProbs(logits, { topK: 0 })).toThrow(/topK must be an integer >= 1, got 0/);
    expect(() => samplingProbs(logits, { topP: 0 })).toThrow(/topP must be in \(0, 1\], got 0/);
    expect(() => samplingProbs(logits, { topP: 1.5 })).toThrow(/topP must be in \(0, 1\], got 1.5/);
    expect(() => samplingProbs(logits, { temp: 1 } as never)).toThrow(/unknown option 'temp'/);
    expect(() => samplingProbs([])).toThrow(/logits are empty/);
    expect(() => samplingProbs([0, NaN])).toThrow(/logit 1 is NaN/);
  });
});

describe('drawIndex', () => {
  it('draws with the given frequencies (20 000 seeded draws within 0.015)', () => {
    const p = [0.1, 0.0, 0.6, 0.3], g = new Generator(3), counts = [0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[drawIndex(p, g)]!++;
    expect(counts[1]).toBe(0);
    counts.forEach((c, i) => expect(Math.abs(c / 20000 - p[i]!)).toBeLessThan(0.015));
    expect(() => drawIndex([0, 0], g)).toThrow(/probabilities are all zero/);
    expect(() => drawIndex([-0.5, 1.5], g)).toThrow(/^Kiln: drawIndex: probabilities must be finite and >= 0, got -0\.5 at index 0$/);
    expect(() => drawIndex([0.5, Number.NaN], g)).toThrow(/^Kiln: drawIndex: probabilities must be finite and >= 0, got NaN at index 1$/);
    expect(() => drawIndex([0.5, 0.5], 3 as never)).toThrow(/^Kiln: drawIndex: generator must be a Generator, got 3$/);
  });
});

describe('generate', () => {
  // tokens: 0 <pad>, 1 <bos>, 2 <eos>, 3 a, 4 b
  const table = [
    [0, 0, 0, 0, 0],
    [-9, -9, -9, 2, 1], // after <bos>: a (likely) or b
    [0, 0, 0, 0, 0],
    [-9, -9, 0.5, 1, 0], // after a: a, <eos> or b
    [-9, -9, 1.5, 0, 0.2], // after b: mostly <eos>
  ];

  it('greedy decoding (temperature 0) follows the argmax; a tiny temperature gives the same', () => {
    const m = bigram(table);
    const greedy = generate(m, { bosId: 1, eosId: 2, temperature: 0, maxLength: 6 });
    expect(greedy).toEqual([[3, 3, 3, 3, 3, 3]]); // a always prefers a: stops at maxLength
    for (const seed of [1, 2, 3]) expect(generate(m, { bosId: 1, eosId: 2, temperature: 1e-3, maxLength: 6, seed })).toEqual(greedy);
  });

  it('is seeded; stops at <eos> (not returned) or maxLength; carries the state (one step fed per token)', () => {
    const m = bigram(table);
    const a = generate(m, { n: 50, bosId: 1, eosId: 2, seed: 7, maxLength: 8 });
    const b = generate(m, { n: 50, bosId: 1, eosId: 2, seed: 7, maxLength: 8 });
    expect(a).toEqual(b);
    expect(generate(m, { n: 50, bosId: 1, eosId: 2, seed: 8, maxLength: 8 })).not.toEqual(a);
    for (const s of a) {
      expect(s.length).toBeLessThanOrEqual(8);
      expect(s.every((t) => t === 3 || t === 4)).toBe(true);
    }
    expect(a.some((s) => s.length < 8)).toBe(true);
    // the first token follows the <bos> row: a with probability e²/(e²+e) ≈ 0.73
    const firstA = a.filter((s) => s[0] === 3).length / 50;
    expect(firstA).toBeGreaterThan(0.5);
    // top-k 1 is greedy whatever the temperature
    expect(generate(m, { bosId: 1, eosId: 2, topK: 1, temperature: 5, maxLength: 4, seed: 1 })).toEqual([[3, 3, 3, 3]]);
    // one call for the prefix, then one per generated step but the last
    const counter = bigram(table);
    generate(counter, { prefix: [1, 4], temperature: 0, eosId: 2, maxLength: 5 });
    expect(counter.calls).toBe(1); // after b, <eos> is the argmax: done after the prefix call
  });

  it('suppress keeps tokens out of the samples', () => {
    const m = bigram(table);
    const s = generate(m, { n: 30, bosId: 1, eosId: 2, seed: 2, maxLength: 6, suppress: [3] });
    expect(s.flat().length).toBeGreaterThan(0);
    expect(s.flat().every((t) => t === 4)).toBe(true);
    expect(() => generate(m, { bosId: 1, eosId: 2, suppress: [2] })).toThrow('Kiln: generate: suppress holds eosId 2, so no sequence could end');
    expect(() => generate(m, { bosId: 1, suppress: [0, 1, 2, 3, 4] })).toThrow(/samplingProbs: every logit is -Infinity/);
    expect(() => generate(m, { bosId: 1, suppress: [-1] })).toThrow(/suppress must be an array of token ids >= 0, got \[-1\]/);
  });

  it('rejects bad options', () => {
    const m = bigram(table);
    expect(() => generate(m, { eosId: 2 })).toThrow('Kiln: generate: give a prefix or a bosId to start from');
    expect(() => generate(m, { bosId: 1, n: 0 })).toThrow(/n must be an integer >= 1, got 0/);
    expect(() => generate(m, { bosId: 1, maxLength: 0 })).toThrow(/maxLength must be an integer >= 1, got 0/);
    expect(() => generate(m, { bosId: 1, seed: 1, generator: new Generator(1) })).toThrow(/give seed or generator, not both/);
    expect(() => generate(m, { bosId: 1, topP: 2 })).toThrow(/samplingProbs: topP must be in \(0, 1\], got 2/);
    expect(() => generate(m, { bosId: 1, beam: 3 } as never)).toThrow(/generate: unknown option 'beam'/);
    expect(() => generate({} as never, { bosId: 1 })).toThrow(/model must have forwardWithState/);
  });
});
