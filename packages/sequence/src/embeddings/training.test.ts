import { describe, expect, it } from 'vitest';
import { Generator } from '@kiln/tensor';
import { Adagrad } from '@kiln/optim';
import { Tensor } from '@kiln/tensor';
import { EncodedCorpus, GloVe, SparseAdagrad, UnigramSampler, Word2Vec, countCooccurrences, gloveWeight, type WordVectors } from '../index.js';

// Two topics that never share a sentence: words of one topic should end up closer to each other.
const TOPICS = [
  ['cat', 'dog', 'horse', 'cow', 'sheep', 'goat', 'pig', 'duck'],
  ['car', 'bus', 'truck', 'train', 'bike', 'plane', 'boat', 'tram'],
];
function topicCorpus(n: number, seed: number): string[][] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => {
    const t = TOPICS[g.randint(0, 2)]!;
    return Array.from({ length: 6 }, (_, i) => (i % 3 === 2 ? 'the' : t[g.randint(0, t.length)]!));
  });
}
function topicGap(v: WordVectors): { within: number; across: number } {
  let within = 0, across = 0, nw = 0, na = 0;
  for (const [ti, a] of TOPICS.entries()) for (const x of a) for (const [tj, b] of TOPICS.entries()) for (const y of b) {
    if (x === y) continue;
    if (ti === tj) { within += v.similarity(x, y); nw++; } else { across += v.similarity(x, y); na++; }
  }
  return { within: within / nw, across: across / na };
}

describe('EncodedCorpus and the samplers', () => {
  it('drops rare words, keeps sentence boundaries, and rejects empty corpora', () => {
    const c = EncodedCorpus.build([['a', 'b', 'a'], ['rare', 'b'], ['rare2']], { minCount: 2 });
    expect(c.vocab.tokens).toEqual(['<unk>', 'a', 'b']);
    expect(Array.from(c.tokens)).toEqual([1, 2, 1, 2]);
    expect(Array.from(c.starts)).toEqual([0, 3, 4]);
    expect(() => EncodedCorpus.build([])).toThrow(/Kiln: EncodedCorpus.build: the corpus is empty \(0 sentences/);
    expect(() => EncodedCorpus.build([['a']], { min_count: 1 } as never)).toThrow(/^Kiln: EncodedCorpus\.build: unknown option 'min_count' \(known: minCount, maxSize, op\)$/);
    expect(() => Word2Vec.train([[], []])).toThrow(/Kiln: Word2Vec.train: the corpus is empty \(2 sentences, no tokens\)/);
    expect(() => GloVe.train([['a', 'b']], { minCount: 2 })).toThrow(/GloVe.train: only 0 distinct words occur at least minCount = 2/);
    expect(() => Word2Vec.train([['a']], { window: 0 })).toThrow(/option 'window' must be a positive integer/);
    expect(() => Word2Vec.train([['a']], { windw: 2 } as never)).toThrow(/unknown option 'windw'/);
  });

  it('negatives follow unigram^¾ (χ²-style check on 40 000 draws)', () => {
    const counts = Float64Array.from([0, 100, 10, 1, 1000]);
    const s = new UnigramSampler(counts);
    const z = 100 ** 0.75 + 10 ** 0.75 + 1 + 1000 ** 0.75;
    expect(s.prob(4)).toBeCloseTo(1000 ** 0.75 / z, 12);
    expect(s.prob(0)).toBe(0);
    const draws = s.fill(new Int32Array(40000), new Generator(3));
    const freq = new Float64Array(5);
    for (const d of draws) freq[d]!++;
    expect(freq[0]).toBe(0);
    for (const i of [1, 2, 4]) expect(Math.abs(freq[i]! / 40000 - s.prob(i))).toBeLessThan(0.01);
  });

  it('sub-sampling keeps rare words and thins frequent ones at the word2vec rate', () => {
    const sent = [...Array.from({ length: 900 }, () => 'the'), ...Array.from({ length: 100 }, (_, i) => `w${i % 10}`)];
    const c = EncodedCorpus.build([sent], { minCount: 1 });
    const { tokens } = c.subsample(1e-2, new Generator(1));
    const the = c.vocab.indexOf('the');
    let kept = 0, rare = 0;
    for (const t of tokens) { if (t === the) kept++; else rare++; }
    const f = 0.9, keep = (Math.sqrt(f / 1e-2) + 1) * (1e-2 / f);
    expect(rare).toBe(100);
    expect(Math.abs(kept / 900 - keep)).toBeLessThan(0.05);
  });

  it('co-occurrences are weighted 1/distance and symmetric', () => {
    const c = EncodedCorpus.build([['a', 'b', 'c'], ['a', 'b']], { minCount: 1 });
    const X = countCooccurrences(c, 2, { bufferSize: 4 }); // tiny buffer: several sort-and-merge rounds
    expect(() => countCooccurrences(c, 2, { bufferSize: 1 })).toThrow(/^Kiln: countCooccurrences: option 'bufferSize' must be an integer >= 2, got 1$/);
    expect(() => countCooccurrences(c, 2, { buffer: 4 } as never)).toThrow(/^Kiln: countCooccurrences: unknown option 'buffer' \(known: bufferSize\)$/);
    const get = (x: string, y: string) => {
      const i = c.vocab.indexOf(x), j = c.vocab.indexOf(y);
      for (let t = 0; t < X.values.length; t++) if (X.rows[t] === i && X.cols[t] === j) return X.values[t]!;
      return 0;
    };
    expect(get('a', 'b')).toBe(2);
    expect(get('b', 'a')).toBe(2);
    expect(get('a', 'c')).toBe(0.5);
    expect(get('c', 'a')).toBe(0.5);
    expect(get('a', 'a')).toBe(0);
    expect(gloveWeight(50)).toBeCloseTo(0.5 ** 0.75, 12);
    expect(gloveWeight(250)).toBe(1);
  });
});

describe('SparseAdagrad', () => {
  it('equals @kiln/optim Adagrad (dense) step for step when only some rows are used', () => {
    const g = new Generator(5);
    const init = Float32Array.from({ length: 12 }, () => g.random() - 0.5);
    const dense = new Tensor(Float32Array.from(init), [6, 2], 'float32').requiresGrad_(true);
    const rowsT = new Tensor(Float32Array.from(init), [6, 2], 'float32');
    const opt = new Adagrad([dense], { lr: 0.1 }), sparse = new SparseAdagrad([rowsT], 0.1);
    for (const ids of [[1, 3, 1], [0, 1], [5, 5, 2, 3]]) {
      const idx = Int32Array.from(ids);
      opt.zeroGrad();
      dense.indexSelect(0, new Tensor(idx, [idx.length], 'int32')).square().sum().backward();
      opt.step();
      const [s] = sparse.gather([idx]);
      s!.sub.indexSelect(0, new Tensor(s!.local, [idx.length], 'int32')).square().sum().backward();
      sparse.step();
    }
    const a = dense.dataSync(), b = rowsT.dataSync();
    for (let i = 0; i < 12; i++) expect(b[i]).toBeCloseTo(a[i]!, 6);
    expect(b[8]).toBe(init[8]); // row 4 never used: unchanged
  });
});

describe('training on a two-topic corpus', () => {
  const corpus = topicCorpus(1500, 7);
  for (const mode of ['skipgram', 'cbow'] as const) {
    it(`Word2Vec ${mode}: loss falls and words of a topic end up closer than words across topics`, () => {
      const progress: number[] = [];
      const { model, vectors, losses } = Word2Vec.train(corpus, { mode, dim: 16, window: 2, epochs: 3, minCount: 1, batchSize: 256, seed: 1, sample: 0, onProgress: (p) => progress.push(p.fraction) });
      const both = model.vectors('input+output'), i = both.indexOf('cat');
      expect(both.vector('cat')[3]).toBeCloseTo(model.inputEmbedding.weight.dataSync()[i * 16 + 3]! + model.outputEmbedding.weight.dataSync()[i * 16 + 3]!, 6);
      expect(() => model.vectors('output' as never)).toThrow(/Word2Vec.vectors: which must be 'input' or 'input\+output', got "output"/);
      expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.85); // the floor is high: 'the' is a third of every context
      expect(progress[progress.length - 1]).toBe(1);
      const { within, across } = topicGap(vectors);
      expect(within - across).toBeGreaterThan(mode === 'cbow' ? 0.2 : 0.4); // seeds 2–4 gave 0.27–0.37 (CBOW), 0.77–0.80 (skip-gram)
      expect(vectors.mostSimilar('cat', 3).every((n) => TOPICS[0]!.includes(n.word))).toBe(true);
    });
  }

  it('GloVe with Adagrad: loss falls, topics separate, vectors are W + W̃', () => {
    const { model, vectors, losses } = GloVe.train(corpus, { dim: 16, window: 3, epochs: 25, minCount: 1, batchSize: 128, seed: 2, xMax: 10 });
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.3);
    const { within, across } = topicGap(vectors);
    expect(within - across).toBeGreaterThan(0.3);
    const i = vectors.indexOf('cat');
    expect(vectors.vector('cat')[0]).toBeCloseTo(model.w.weight.dataSync()[i * 16]! + model.wTilde.weight.dataSync()[i * 16]!, 6);
  });
});
