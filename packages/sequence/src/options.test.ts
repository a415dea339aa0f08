import { describe, expect, it } from 'vitest';
import { Generator, Tensor, randn } from '@kiln/tensor';
// straight from the modules (not the package index), so this file only depends on the parts it covers
import { Vocab, checkOptionKeys } from './text/vocab.js';
import { Tokenizer } from './text/tokenize.js';
import { parseWordnetData } from './text/wordnet.js';
import { LMBatches } from './lm/data.js';
import { RNNLanguageModel } from './lm/language-model.js';
import { generate, samplingProbs } from './sampling/sample.js';
import { lengthsMask, padSequence } from './utils/pad.js';
import { ManyToMany, ManyToOne, OneToMany, Seq2Seq } from './blocks/index.js';
import { GRUCell, MultiheadAttention, RNN } from './index.js';

// Option objects go through @kiln/tensor's shared checkOptions: unknown keys and wrong types are errors naming
// the function, the option and the value.
describe('@kiln/sequence option objects are validated (text, lm, sampling, utils, blocks)', () => {
  it('Vocab, Vocab.build/fromCounts, encode and decode', () => {
    expect(() => new Vocab(['<unk>', 'a'], { specials: ['<unk>'], unkToken: '<unk>' } as never)).toThrow(/^Kiln: Vocab: unknown option 'unkToken' \(known: specials, unk\)$/);
    expect(() => new Vocab(['<unk>', 'a'], { unk: 1 } as never)).toThrow("Kiln: Vocab: option 'unk' must be a string or null, got 1");
    expect(() => Vocab.build([['a']], { min_freq: 2 } as never)).toThrow(/^Kiln: Vocab\.fromCounts: unknown option 'min_freq' \(known: minFreq, maxSize, specials, unk\)$/);
    expect(() => Vocab.build([['a']], { minFreq: '2' } as never)).toThrow("Kiln: Vocab.fromCounts: option 'minFreq' must be a number, got '2'");
    expect(() => Vocab.fromCounts({ a: 1 }, { specials: '<pad>' } as never)).toThrow(`Kiln: Vocab.fromCounts: option 'specials' must be an array of strings, got '<pad>'`);
    const v = Vocab.build([['a', 'b']]);
    expect(() => v.encode(['a'], { sos: true } as never)).toThrow(/^Kiln: Vocab\.encode: unknown option 'sos' \(known: bos, eos\)$/);
    expect(() => v.encode(['a'], { eos: 1 } as never)).toThrow("Kiln: Vocab.encode: option 'eos' must be a boolean, got 1");
    expect(() => v.decode([4], { strip: false } as never)).toThrow(/^Kiln: Vocab\.decode: unknown option 'strip' \(known: stripSpecials\)$/);
    expect(() => v.decode([4], { stripSpecials: 'no' } as never)).toThrow("Kiln: Vocab.decode: option 'stripSpecials' must be a boolean, got 'no'");
    expect(v.decode(v.encode(['a', 'b'], { bos: true, eos: true }))).toEqual(['a', 'b']); // valid options still work
  });

  it('Tokenizer.fit, encode and decode', () => {
    expect(() => Tokenizer.fit('word', ['a b'], { lower: true } as never)).toThrow(/^Kiln: Tokenizer\.fit\(word\): unknown option 'lower' \(known: minFreq, maxSize, specials, unk, lowercase\)$/);
    expect(() => Tokenizer.fit('word', ['a b'], { maxSize: '10' } as never)).toThrow("Kiln: Tokenizer.fit(word): option 'maxSize' must be a number, got '10'");
    const tok = Tokenizer.fit('char', ['abc']);
    expect(() => tok.encode('ab', { bos: true, end: true } as never)).toThrow(/^Kiln: Tokenizer\.encode: unknown option 'end' \(known: bos, eos\)$/);
    expect(() => tok.encode('ab', { bos: 'yes' } as never)).toThrow("Kiln: Tokenizer.encode: option 'bos' must be a boolean, got 'yes'");
    expect(() => tok.decode([4], { keepSpecials: true } as never)).toThrow(/^Kiln: Tokenizer\.decode: unknown option 'keepSpecials' \(known: stripSpecials\)$/);
    expect(() => tok.decode([4], { stripSpecials: 0 } as never)).toThrow("Kiln: Tokenizer.decode: option 'stripSpecials' must be a boolean, got 0");
  });

  it('parseWordnetData', () => {
    expect(() => parseWordnetData('', { max: 3 } as never)).toThrow(/^Kiln: parseWordnetData: unknown option 'max' \(known: limit\)$/);
    expect(() => parseWordnetData('', { limit: '3' } as never)).toThrow("Kiln: parseWordnetData: option 'limit' must be a number, got '3'");
  });

  it('LMBatches and RNNLanguageModel', () => {
    const seqs = [[2, 5, 3], [2, 6, 6, 3]];
    expect(() => new LMBatches(seqs, { batch: 4 } as never)).toThrow(/^Kiln: LMBatches: unknown option 'batch' \(known: batchSize, shuffle, seed, padId, maxLength\)$/);
    expect(() => new LMBatches(seqs, { shuffle: 'no' } as never)).toThrow("Kiln: LMBatches: option 'shuffle' must be a boolean, got 'no'");
    expect(() => new RNNLanguageModel(10, { hidden: 8 } as never)).toThrow(/^Kiln: RNNLanguageModel: unknown option 'hidden' \(known: cell, embeddingDim, /);
    expect(() => new RNNLanguageModel(10, { dtype: 'int32' } as never)).toThrow("Kiln: RNNLanguageModel: option 'dtype' must be one of 'float32', 'float64', got 'int32'");
  });

  it('samplingProbs and generate', () => {
    expect(() => samplingProbs([1, 2], { temp: 1 } as never)).toThrow(/^Kiln: samplingProbs: unknown option 'temp' \(known: temperature, topK, topP\)$/);
    expect(() => samplingProbs([1, 2], { topP: '0.9' } as never)).toThrow("Kiln: samplingProbs: option 'topP' must be a number, got '0.9'");
    const model = { forwardWithState: (ids: Tensor): [Tensor, unknown] => [randn([ids.shape[0]!, ids.shape[1]!, 4]), null] };
    expect(() => generate(model, { bosId: 1, beam: 3 } as never)).toThrow(/^Kiln: generate: unknown option 'beam' \(known: temperature, topK, topP, n, prefix, /);
    expect(() => generate(model, { bosId: 1, generator: 7 } as never)).toThrow("Kiln: generate: option 'generator' must be a Generator, got 7");
    expect(() => generate(model, { prefix: 2 } as never)).toThrow("Kiln: generate: option 'prefix' must be an array of token ids, got 2");
    expect(generate(model, { bosId: 1, maxLength: 3, generator: new Generator(0) })[0]!.length).toBe(3);
  });

  it('padSequence and lengthsMask', () => {
    const a = randn([2, 3]), b = randn([1, 3]);
    expect(() => padSequence([a, b], { batch_first: true } as never)).toThrow(/^Kiln: padSequence: unknown option 'batch_first' \(known: batchFirst, paddingValue\)$/);
    expect(() => padSequence([a, b], { paddingValue: '0' } as never)).toThrow("Kiln: padSequence: option 'paddingValue' must be a number, got '0'");
    expect(() => lengthsMask([2, 1], 2, { batch_first: true } as never)).toThrow(/^Kiln: lengthsMask: unknown option 'batch_first' \(known: batchFirst, dtype\)$/);
    expect(() => lengthsMask([2, 1], 2, { dtype: 'int32' } as never)).toThrow("Kiln: lengthsMask: option 'dtype' must be one of 'float32', 'float64', got 'int32'");
  });

  it('the sequence blocks name themselves', () => {
    const blocks = [['ManyToOne', ManyToOne], ['ManyToMany', ManyToMany], ['OneToMany', OneToMany], ['Seq2Seq', Seq2Seq]] as const;
    for (const [name, Block] of blocks) {
      expect(() => new Block(2, 2, { hiddenSize: 3, layers: 2 } as never)).toThrow(new RegExp(`^Kiln: ${name}: unknown option 'layers' \\(known: cell, hiddenSize, numLayers, `));
      expect(() => new Block(2, 2, { hiddenSize: 3, dropout: 1.5 } as never)).toThrow(`Kiln: ${name}: option 'dropout' must be a number in [0, 1], got 1.5`);
      // blocks run time-major: batchFirst is not one of their options
      expect(() => new Block(2, 2, { hiddenSize: 3, batchFirst: true } as never)).toThrow(`Kiln: ${name}: unknown option 'batchFirst'`);
    }
    // each cell's own options are allowed for that cell only
    expect(new ManyToOne(2, 2, { hiddenSize: 3, cell: 'gru', variant: 'course' } as never).rnn.constructor.name).toBe('GRU');
    expect(() => new ManyToOne(2, 2, { hiddenSize: 3, cell: 'gru', peephole: true } as never)).toThrow(/^Kiln: ManyToOne: unknown option 'peephole'/);
  });

  it('a generator option must be a Generator (any object used to pass, then fail at the first draw)', () => {
    expect(() => new RNN(3, 4, { generator: {} } as never)).toThrow(/^Kiln: RNN: option 'generator' must be a Generator, got \{\}$/);
    expect(() => new MultiheadAttention(8, 2, { generator: { seed: 1 } } as never)).toThrow(/^Kiln: MultiheadAttention: option 'generator' must be a Generator, got \{"seed":1\}$/);
    expect(() => new GRUCell(3, 4, { generator: Math } as never)).toThrow(/^Kiln: GRUCell: option 'generator' must be a Generator/);
    expect(new RNN(3, 4, { generator: new Generator(1) }).hiddenSize).toBe(4);
  });
  it('checkOptionKeys (kept for the parts not yet moved to checkOptions) reports through the shared helper', () => {
    expect(() => checkOptionKeys('f', { b: 1 }, new Set(['a']))).toThrow("Kiln: f: unknown option 'b' (known: a)");
    expect(() => checkOptionKeys('f', 3, new Set(['a']))).toThrow('Kiln: f: options must be an object, got 3');
    expect(() => checkOptionKeys('f', { a: 'anything' }, new Set(['a']))).not.toThrow();
  });
});
