/**
 * npm run demo -w @kiln/sequence — the course's character-level name model (dinosaur names in
 * the lectures; Pokémon names here, from the `pokemon` npm package):
 * trains an LSTM language model with fit (progress bar on a terminal), reports per-character
 * cross-entropy and perplexity against a unigram baseline, samples names at several temperatures
 * and with top-k / top-p, exports one sampling step to ONNX and samples the same names from ONNX
 * Runtime. With --words, then a word-level LM on WordNet glosses (demo/words.ts).
 * Options: --epochs N (most epochs, default 40; early stopping on the dev loss), --hidden N (default
 * 128), --cell lstm|gru, --out DIR, --words, --word-epochs N (default 6).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getNumThreads, manualSeed, wasmInfo } from '@kiln/tensor';
import { saveSafetensors } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { fit } from '@kiln/train';
import {
  LMBatches, RNNLanguageModel, Tokenizer, evaluateLM, generate, lmLoss, unigramPerplexity, type GenerateOptions,
} from '@kiln/sequence';
import { loadNames } from './corpora.js';
import { exportLMStep, generateWithOrt, ortSession } from './onnx-lm.js';
import { wordDemo } from './words.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '40' },
    hidden: { type: 'string', default: '128' },
    cell: { type: 'string', default: 'lstm' },
    out: { type: 'string', default: join(tmpdir(), 'kiln-sequence-demo') },
    words: { type: 'boolean', default: false },
    'word-epochs': { type: 'string', default: '6' },
  },
});
const epochs = Number(args.epochs), hidden = Number(args.hidden), cell = args.cell as 'lstm' | 'gru';
if (!(Number.isInteger(epochs) && epochs >= 1) || !(Number.isInteger(hidden) && hidden >= 1) || (cell !== 'lstm' && cell !== 'gru')) {
  throw new Error(`demo: --epochs and --hidden must be positive integers and --cell lstm or gru, got ${args.epochs}, ${args.hidden}, ${args.cell}`);
}

manualSeed(0);
const names = loadNames('pokemon');
const tok = Tokenizer.fit('char', names, { lowercase: true });
const seqs = names.map((n) => tok.encode(n, { bos: true, eos: true }));
const train = seqs.filter((_, i) => i % 10 !== 0), dev = seqs.filter((_, i) => i % 10 === 0);
const known = new Set(names.map((n) => n.toLowerCase()));
console.log(`Pokémon names: ${names.length} (${train.length} train, ${dev.length} dev), ${tok.vocab.size} tokens (${tok.vocab.size - 4} characters + <pad> <unk> <bos> <eos>)`);
console.log(`backend: ${wasmInfo()?.build ?? 'reference (no WebAssembly SIMD)'}, ${getNumThreads()} threads`);

// 922 names are little data: dropout and early stopping keep the model from memorising them
const model = new RNNLanguageModel(tok.vocab.size, { cell, embeddingDim: 32, hiddenSize: hidden, dropout: 0.3, padId: tok.vocab.padId });
const trainBatches = new LMBatches(train, { batchSize: 32, seed: 1 }), devBatches = new LMBatches(dev, { shuffle: false });
const unigram = unigramPerplexity(train, dev, tok.vocab.size);
console.log(`model: embedding 32 → ${cell.toUpperCase()} ${hidden} → linear ${tok.vocab.size} (${model.parameters().reduce((a, p) => a + p.numel(), 0)} parameters), dropout 0.3; Adam 0.005, clipGradNorm 5, up to ${epochs} epochs, early stopping on the dev loss (patience 3)`);

// never sample <pad>, <unk> or <bos> (they never follow a character in training, but keep a sliver of probability)
const suppress = [tok.vocab.padId, tok.vocab.unkId, tok.vocab.bosId];
const t0 = performance.now();
const training = fit(model, {
  train: trainBatches, dev: devBatches, loss: lmLoss, optimizer: new Adam(model.parameters(), { lr: 0.005 }), epochs, clipGradNorm: 5, progress: 'auto',
  earlyStopping: { monitor: 'loss', patience: 3, restoreBest: true },
  callbacks: {
    onEpochEnd: (logs) => {
      if (logs.epoch % 5 !== 0) return;
      const s = evaluateLM(model, devBatches);
      const [sample] = generate(model, { bosId: tok.vocab.bosId, eosId: tok.vocab.eosId, seed: logs.epoch, maxLength: 20, suppress });
      console.log(`  epoch ${logs.epoch}: dev ${s.crossEntropy.toFixed(3)} nats/char, perplexity ${s.perplexity.toFixed(2)}; a sample: ${tok.decode(sample!)}`);
    },
  },
});
const history = await training;
const seconds = (performance.now() - t0) / 1000;

const tr = evaluateLM(model, new LMBatches(train, { shuffle: false })), dv = evaluateLM(model, devBatches);
const ran = history.epochs.length;
console.log(`\ntrained ${ran} epochs in ${seconds.toFixed(1)} s (${((trainBatches.tokens * ran) / seconds).toFixed(0)} characters/s)${history.stoppedEarly ? `; stopped early, weights of epoch ${history.bestEpoch} restored` : ''}`);
console.log(`per-character cross-entropy / perplexity: train ${tr.crossEntropy.toFixed(3)} / ${tr.perplexity.toFixed(2)}, dev ${dv.crossEntropy.toFixed(3)} / ${dv.perplexity.toFixed(2)} (unigram baseline: dev perplexity ${unigram.toFixed(2)}; uniform: ${tok.vocab.size})`);

const show = (label: string, o: Omit<GenerateOptions, 'bosId' | 'eosId'>) => {
  const out = generate(model, { bosId: tok.vocab.bosId, eosId: tok.vocab.eosId, maxLength: 20, suppress, ...o }).map((ids) => tok.decode(ids));
  const fresh = out.filter((n) => !known.has(n)).length;
  console.log(`${label.padEnd(22)} ${out.join(', ')}  (${fresh}/${out.length} not in the list)`);
  return out;
};
console.log('\nsampled names (seeded):');
show('greedy (temperature 0)', { temperature: 0 });
show('temperature 0.5', { n: 10, temperature: 0.5, seed: 1 });
show('temperature 1', { n: 10, seed: 2 });
show('temperature 1.5', { n: 10, temperature: 1.5, seed: 3 });
show('top-k 5', { n: 10, topK: 5, seed: 4 });
show('top-p 0.9', { n: 10, topP: 0.9, seed: 5 });

await mkdir(args.out, { recursive: true });
await tok.save(join(args.out, 'tokenizer.json'));
await saveSafetensors(join(args.out, 'char-lm.safetensors'), model.stateDict(), { cell, hidden: String(hidden) });
const n = 10, bytes = exportLMStep(model, n);
await writeFile(join(args.out, 'char-lm-step.onnx'), bytes);
console.log(`\nsaved ${join(args.out, 'tokenizer.json')}, char-lm.safetensors and char-lm-step.onnx (${(bytes.length / 1024).toFixed(0)} KB: one step, ids [${n}, 1] + state → logits + state)`);

const session = await ortSession(bytes);
const options = { n, bosId: tok.vocab.bosId, eosId: tok.vocab.eosId, maxLength: 20, seed: 42, temperature: 0.8, suppress };
const ort = await generateWithOrt(session, model, options, model);
const kiln = generate(model, options);
const ortNames = ort.ids.map((ids) => tok.decode(ids));
console.log(`ONNX Runtime samples (temperature 0.8, seed 42): ${ortNames.join(', ')}`);
console.log(`same as Kiln's generate with that seed: ${JSON.stringify(ort.ids) === JSON.stringify(kiln) ? 'yes' : 'NO'}; largest |logit| difference ORT vs Kiln over the run: ${ort.maxLogitDiff.toExponential(2)}`);

if (args.words) {
  const wordEpochs = Number(args['word-epochs']);
  if (!(Number.isInteger(wordEpochs) && wordEpochs >= 1)) throw new Error(`demo: --word-epochs must be a positive integer, got ${args['word-epochs']}`);
  await wordDemo({ epochs: wordEpochs, progress: 'auto' });
}
