import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, Tensor, manualSeed, noGrad } from '@kiln/tensor';
import { gradcheckModule, loadSafetensors, saveSafetensors } from '@kiln/nn';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam } from '@kiln/optim';
import { fit } from '@kiln/train';
import {
  LMBatches, RNNLanguageModel, Tokenizer, evaluateLM, generate, lmBatch, lmLoss, sequenceLogProbs, splitSentences, unigramPerplexity,
} from '../index.js';
import { loadNames, loadWordnet } from '../../demo/corpora.js';

const quiet = { progress: false } as const;

describe('character-level LM on Pokémon names (the dinosaur-names exercise)', () => {
  let tok: Tokenizer, model: RNNLanguageModel, train: number[][], dev: number[][], unigram: number;
  let history: { trainLoss: number[] };

  beforeAll(async () => {
    const names = loadNames('pokemon').slice(0, 700);
    tok = Tokenizer.fit('char', names, { lowercase: true });
    const seqs = names.map((n) => tok.encode(n, { bos: true, eos: true }));
    train = seqs.filter((_, i) => i % 7 !== 0);
    dev = seqs.filter((_, i) => i % 7 === 0);
    unigram = unigramPerplexity(train, dev, tok.vocab.size);
    manualSeed(0);
    model = new RNNLanguageModel(tok.vocab.size, { cell: 'lstm', embeddingDim: 16, hiddenSize: 64, padId: tok.vocab.padId });
    history = await fit(model, { train: new LMBatches(train, { batchSize: 32, seed: 1 }), loss: lmLoss, optimizer: new Adam(model.parameters(), { lr: 0.01 }), epochs: 6, ...quiet });
  });

  it('learns: dev perplexity well under the unigram baseline', () => {
    const s = evaluateLM(model, new LMBatches(dev, { shuffle: false }));
    const t = evaluateLM(model, new LMBatches(train, { shuffle: false }));
    console.log(`char LM (LSTM 64, 600 names, 6 epochs): train CE ${t.crossEntropy.toFixed(3)} nats/char (ppl ${t.perplexity.toFixed(2)}), dev CE ${s.crossEntropy.toFixed(3)} (ppl ${s.perplexity.toFixed(2)}), unigram dev ppl ${unigram.toFixed(2)}, vocab ${tok.vocab.size}`);
    expect(history.trainLoss.at(-1)!).toBeLessThan(history.trainLoss[0]! - 0.4);
    expect(s.tokens).toBe(dev.reduce((a, q) => a + q.length - 1, 0));
    expect(s.perplexity).toBeCloseTo(Math.exp(s.crossEntropy), 10);
    expect(s.perplexity).toBeLessThan(unigram * 0.75);
  });

  it("samples are more likely under the model than the same characters shuffled", () => {
    const { bosId, eosId } = tok.vocab;
    const samples = generate(model, { n: 40, bosId, eosId, seed: 5, maxLength: 20 }).filter((s) => s.length >= 3);
    const g = new Generator(9);
    const shuffled = samples.map((s) => Array.from(g.permutation(s.length), (i) => s[i]!));
    const wrap = (s: number[]) => [bosId, ...s, eosId];
    const lpS = sequenceLogProbs(model, samples.map(wrap)), lpX = sequenceLogProbs(model, shuffled.map(wrap));
    let wins = 0, ties = 0;
    samples.forEach((s, i) => { if (lpS[i]! > lpX[i]!) wins++; else if (s.join() === shuffled[i]!.join()) ties++; });
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(`samples: ${samples.slice(0, 8).map((s) => tok.decode(s)).join(', ')}; mean log-prob ${mean(lpS).toFixed(2)} vs shuffled ${mean(lpX).toFixed(2)}; sample beats its shuffle ${wins}/${samples.length - ties}`);
    expect(samples.length).toBeGreaterThan(25);
    expect(mean(lpS)).toBeGreaterThan(mean(lpX) + 2);
    expect(wins / (samples.length - ties)).toBeGreaterThan(0.8);
    // sequenceLogProbs agrees with evaluateLM's total
    const total = sequenceLogProbs(model, dev).reduce((a, b) => a + b, 0);
    const s = evaluateLM(model, new LMBatches(dev, { shuffle: false }));
    expect(-total / s.tokens).toBeCloseTo(s.crossEntropy, 4);
  });

  it('temperature 0 is greedy decoding (checked against argmax over full re-runs); a tiny temperature matches it', () => {
    const { bosId, eosId } = tok.vocab;
    const [greedy] = generate(model, { bosId, eosId, temperature: 0, maxLength: 15 });
    // greedy by hand: rerun the whole prefix each step (no carried state) and take the argmax
    const ids = [bosId], want: number[] = [];
    noGrad(() => {
      for (let step = 0; step < 15; step++) {
        const logits = model.forward(new Tensor(Int32Array.from(ids), [1, ids.length], 'int32'));
        const v = logits.shape[2]!, d = logits.dataSync().subarray((ids.length - 1) * v);
        let best = 0;
        for (let i = 1; i < v; i++) if (d[i]! > d[best]!) best = i;
        if (best === eosId) break;
        want.push(best); ids.push(best);
      }
    });
    expect(greedy).toEqual(want);
    for (const seed of [1, 2, 3]) expect(generate(model, { bosId, eosId, temperature: 1e-4, maxLength: 15, seed })).toEqual([greedy]);
    // higher temperatures give more varied samples
    const distinct = (t: number) => new Set(generate(model, { n: 30, bosId, eosId, temperature: t, maxLength: 15, seed: 4 }).map((s) => s.join())).size;
    expect(distinct(0.1)).toBeLessThan(distinct(1.5));
  });
});

describe('word-level LM on WordNet glosses', () => {
  it('a GRU LM beats the unigram perplexity on held-out glosses', async () => {
    const glosses = loadWordnet('verb', 1700).map((s) => s.definition).filter((d) => d.length > 0);
    // a gloss can hold several sentences; each is one training sequence
    const sentences = glosses.flatMap((g) => splitSentences(g));
    const tok = Tokenizer.fit('word', sentences.slice(0, 1400), { lowercase: true, minFreq: 3, maxSize: 300 });
    const seqs = sentences.map((s) => tok.encode(s, { bos: true, eos: true })).filter((s) => s.length <= 16);
    const train = seqs.slice(0, 1300), dev = seqs.slice(1300);
    manualSeed(1);
    const model = new RNNLanguageModel(tok.vocab.size, { cell: 'gru', embeddingDim: 32, hiddenSize: 64, padId: tok.vocab.padId });
    const h = await fit(model, { train: new LMBatches(train, { batchSize: 32, seed: 2 }), dev: new LMBatches(dev, { shuffle: false }), loss: lmLoss, optimizer: new Adam(model.parameters(), { lr: 0.01 }), epochs: 4, ...quiet });
    const s = evaluateLM(model, new LMBatches(dev, { shuffle: false }));
    const unigram = unigramPerplexity(train, dev, tok.vocab.size);
    const unk = dev.flat().filter((id) => id === tok.vocab.unkId).length / dev.reduce((a, q) => a + q.length - 1, 0);
    const [sample] = generate(model, { bosId: tok.vocab.bosId, eosId: tok.vocab.eosId, temperature: 0.7, seed: 3, maxLength: 16 });
    console.log(`word LM (GRU 64, vocab ${tok.vocab.size}, ${train.length} train / ${dev.length} dev sentences, 4 epochs): dev CE ${s.crossEntropy.toFixed(3)} nats/word, ppl ${s.perplexity.toFixed(1)} vs unigram ${unigram.toFixed(1)} (<unk> rate ${(unk * 100).toFixed(1)}%); fit dev loss ${h.devLoss.map((v) => v.toFixed(2)).join(' ')}; sample: "${tok.decode(sample!)}"`);
    expect(s.perplexity).toBeLessThan(unigram * 0.8);
  });
});

describe('language model plumbing', () => {
  it('lmBatch pads inputs and marks padded targets; LMBatches reshuffles each epoch with a length', () => {
    const [x, y] = lmBatch([[2, 5, 6, 3], [2, 7, 3]], 0);
    expect(x.toArray()).toEqual([[2, 5, 6], [2, 7, 0]]);
    expect(y.toArray()).toEqual([[5, 6, 3], [7, 3, -100]]);
    const seqs = Array.from({ length: 10 }, (_, i) => [2, 4 + i, 3]);
    const b = new LMBatches(seqs, { batchSize: 4, seed: 3 });
    expect(b.length).toBe(3);
    expect(b.tokens).toBe(20);
    const epoch = () => [...b].map(([xx]) => Array.from(xx!.dataSync()).filter((v, i) => i % 2 === 1));
    const e1 = epoch(), e2 = epoch();
    expect(e1.flat().sort()).toEqual(e2.flat().sort());
    expect(e1).not.toEqual(e2);
    expect(() => new LMBatches([[1]], {})).toThrow('Kiln: LMBatches: no sequence of 2..Infinity tokens among 1');
    expect(() => new LMBatches(seqs, { batch: 4 } as never)).toThrow(/unknown option 'batch'/);
    expect(() => new LMBatches([[1, -2]])).toThrow(/sequence 0 must be an array of integer ids >= 0/);
  });

  it('token ids out of the vocabulary, bad shapes and options are clear errors', () => {
    manualSeed(0);
    const m = new RNNLanguageModel(10, { hiddenSize: 8, embeddingDim: 4 });
    expect(() => m.forward(new Tensor(Int32Array.from([1, 2, 12]), [1, 3], 'int32'))).toThrow('Kiln: RNNLanguageModel: token id 12 at [0, 2] out of range for a vocabulary of 10');
    expect(() => m.forward(new Tensor(Float32Array.from([1, 2]), [1, 2], 'float32'))).toThrow(/input must be int32 token ids \[batch, time\], got float32 \[1,2\]/);
    expect(() => m.forward(new Tensor(Int32Array.from([1, 2]), [2], 'int32'))).toThrow(/got int32 \[2\]/);
    expect(() => new RNNLanguageModel(10, { cell: 'transformer' } as never)).toThrow("Kiln: RNNLanguageModel: option 'cell' must be one of 'lstm', 'gru', 'rnn', got 'transformer'");
    expect(() => new RNNLanguageModel(10, { hidden: 8 } as never)).toThrow(/RNNLanguageModel: unknown option 'hidden'/);
    expect(() => new RNNLanguageModel(1)).toThrow(/vocabSize must be an integer >= 2, got 1/);
    expect(() => lmLoss(new Tensor(new Float32Array(12), [1, 3, 4], 'float32'), new Tensor(new Int32Array(2), [1, 2], 'int32'))).toThrow('Kiln: lmLoss: expected logits [B, T, V] and targets [B, T], got [1,3,4] and [1,2]');
    const tok = Tokenizer.fit('char', ['abc']);
    expect(() => tok.decode([2, 4, 99])).toThrow('Kiln: Vocab.decode: token id 99 at position 2 out of range for a vocabulary of 7 tokens');
    // an id past the vocabulary, or nothing to score, used to give NaN
    expect(() => unigramPerplexity([[1, 2]], [[1, 12]], 10)).toThrow(/^Kiln: unigramPerplexity: test\[0\]\[1\] = 12 is not a token id in 0\.\.9$/);
    expect(() => unigramPerplexity([[1, 2]], [[1]], 10)).toThrow(/^Kiln: unigramPerplexity: test has no next-token targets/);
  });

  it('float64 gradcheck of the whole LM (embedding, 2-layer LSTM and GRU, decoder) through lmLoss with a padded target', () => {
    for (const cell of ['lstm', 'gru'] as const) {
      manualSeed(5);
      const m = new RNNLanguageModel(6, { cell, embeddingDim: 3, hiddenSize: 4, numLayers: 2, dtype: 'float64', padId: 0 });
      const [x, y] = lmBatch([[2, 4, 5, 3], [2, 5, 3]]);
      const r = gradcheckModule(m, [x!], (o) => lmLoss(o, y!));
      expect(r.ok, `${cell}: ${JSON.stringify(r).slice(0, 300)}`).toBe(true);
    }
  });

  it('a saved LM (safetensors) and tokenizer (JSON) load back and sample the same names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-lm-'));
    try {
      const tok = Tokenizer.fit('char', loadNames('superheroes').slice(0, 100), { lowercase: true });
      manualSeed(3);
      const m = new RNNLanguageModel(tok.vocab.size, { cell: 'gru', hiddenSize: 16, embeddingDim: 8 });
      await saveSafetensors(join(dir, 'lm.safetensors'), m.stateDict());
      await tok.save(join(dir, 'tok.json'));
      const tok2 = await Tokenizer.load(join(dir, 'tok.json'));
      manualSeed(99);
      const m2 = new RNNLanguageModel(tok2.vocab.size, { cell: 'gru', hiddenSize: 16, embeddingDim: 8 });
      m2.loadStateDict((await loadSafetensors(join(dir, 'lm.safetensors'))).tensors);
      const o = { n: 5, bosId: tok2.vocab.bosId, eosId: tok2.vocab.eosId, seed: 4, maxLength: 12 };
      expect(generate(m2, o).map((s) => tok2.decode(s))).toEqual(generate(m, o).map((s) => tok.decode(s)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('state-dict keys follow the module names (embedding, rnn, decoder); the LM trains with truncated BPTT in fit', async () => {
    manualSeed(2);
    const m = new RNNLanguageModel(12, { cell: 'lstm', hiddenSize: 16, embeddingDim: 8 });
    expect(Object.keys(m.stateDict())).toEqual(['embedding.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'decoder.weight', 'decoder.bias']);
    // one long stream cut into 4 rows: a repeating pattern the LM can learn through carried state
    const stream = Array.from({ length: 4 * 41 }, (_, i) => 4 + (i % 5));
    const rows = Array.from({ length: 4 }, (_, r) => stream.slice(r * 41, r * 41 + 41));
    const batches = [lmBatch(rows)];
    const h = await fit(m, { train: batches, loss: lmLoss, optimizer: new Adam(m.parameters(), { lr: 0.02 }), epochs: 15, tbptt: { steps: 8 }, ...quiet });
    expect(h.trainLoss.at(-1)!).toBeLessThan(0.3);
    expect(evaluateLM(m, batches).perplexity).toBeLessThan(1.3);
  });
});
