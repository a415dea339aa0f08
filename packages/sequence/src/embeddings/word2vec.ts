import { Generator, Tensor, checkOptions } from '@kiln/tensor';
import { Embedding, Module, uniform_, zeros_ } from '@kiln/nn';
import { Adam, SGD, setLr, type Optimizer } from '@kiln/optim';
import { EncodedCorpus, UnigramSampler } from './corpus.js';
import { WordVectors } from './word-vectors.js';

export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Fraction of all training done, 0..1. */
  fraction: number;
  /** Mean loss per example since the last report. */
  loss: number;
  examples: number;
  seconds: number;
}

export interface Word2VecOptions {
  /** 'skipgram' (predict each context word from the centre) or 'cbow' (the centre from its averaged context). */
  mode?: 'skipgram' | 'cbow';
  dim?: number;
  /** Largest context distance; each centre draws its own window 1..window, as word2vec does. */
  window?: number;
  /** Negative samples per positive, drawn from unigram^¾. */
  negatives?: number;
  /** Sub-sampling threshold t (word2vec's -sample; 0 keeps every token). */
  sample?: number;
  minCount?: number;
  maxVocab?: number;
  epochs?: number;
  /** Positive examples per mini-batch. */
  batchSize?: number;
  /** Starting learning rate; SGD decays it linearly to lr·1e-4 as in word2vec. */
  lr?: number;
  optimizer?: 'sgd' | 'adam';
  /**
   * The vectors `train` returns: the input vectors (word2vec's output file, the default) or input +
   * output vectors ('input+output', Levy et al. 2015's w + c, GloVe's W + W̃). On a small corpus the
   * input vectors share one dominant direction, which the output vectors largely cancel.
   */
  vectors?: 'input' | 'input+output';
  seed?: number;
  /** Called about every `progressEvery` mini-batches and at the end of each epoch. */
  onProgress?: (p: TrainProgress) => void;
  progressEvery?: number;
}

const SPEC = {
  mode: ['skipgram', 'cbow'], dim: 'posint', window: 'posint', negatives: 'posint', sample: 'finite', minCount: 'posint', maxVocab: 'posint',
  epochs: 'posint', batchSize: 'posint', lr: 'finite', optimizer: ['sgd', 'adam'], vectors: ['input', 'input+output'], seed: 'int', onProgress: 'function', progressEvery: 'posint',
} as const;

/** −log σ(x) summed, written as softplus(−x) (stable for large |x|). */
const nllSigmoid = (x: Tensor): Tensor => x.neg().softplus().sum();

/** Rows of a table given as an Embedding or as a plain [rows, D] tensor (a batch's sub-table). */
const rowsOf = (table: Embedding | Tensor, ids: Tensor): Tensor =>
  table instanceof Embedding ? table.forward(ids) : table.indexSelect(0, ids.reshape([-1])).reshape([...ids.shape, table.shape[1]!]);

/** The loss of `Word2Vec.forward`, on whole tables or on the rows a batch uses (ids then index those rows). */
function negativeSamplingLoss(inW: Embedding | Tensor, outW: Embedding | Tensor, mode: 'skipgram' | 'cbow', inputs: Tensor, targets: Tensor, negatives: Tensor, mask?: Tensor): Tensor {
  let h: Tensor;
  if (mode === 'skipgram') h = rowsOf(inW, inputs); // [B, D]
  else {
    if (!mask) throw new Error('Kiln: Word2Vec.forward: CBOW needs the context mask');
    const ctx = rowsOf(inW, inputs); // [B, C, D]
    h = ctx.mul(mask.unsqueeze(2)).sum(1).div(mask.sum(1, true));
  }
  const pos = h.mul(rowsOf(outW, targets)).sum(1); // [B]
  const neg = rowsOf(outW, negatives).mul(h.unsqueeze(1)).sum(2); // [B, k]
  return nllSigmoid(pos).add(nllSigmoid(neg.neg()));
}

/**
 * The rows of `table` that `ids` use, as a fresh leaf tensor [U, D] that requires grad, and `ids`
 * renumbered into it: a mini-batch then differentiates and updates U rows, not the whole table
 * (PyTorch's `Embedding(sparse=True)` with SGD).
 */
function gatherRows(table: Float32Array, dim: number, ids: Int32Array, slot: Int32Array): { sub: Tensor; local: Int32Array; rows: Int32Array } {
  const rows: number[] = [], local = new Int32Array(ids.length);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    if (slot[id]! < 0) { slot[id] = rows.length; rows.push(id); }
    local[t] = slot[id]!;
  }
  const data = new Float32Array(rows.length * dim);
  for (let r = 0; r < rows.length; r++) { data.set(table.subarray(rows[r]! * dim, (rows[r]! + 1) * dim), r * dim); slot[rows[r]!] = -1; }
  return { sub: new Tensor(data, [rows.length, dim], 'float32').requiresGrad_(true), local, rows: Int32Array.from(rows) };
}

/**
 * word2vec (Mikolov et al. 2013) with negative sampling, as a Kiln module trained by autograd:
 * input vectors `inputEmbedding` (the word vectors) and output vectors `outputEmbedding` (zero at
 * start). The loss of a positive pair (centre or averaged context h, target o) with negatives n₁..n_k
 * is −log σ(h·u_o) − Σ log σ(−h·u_nᵢ), summed over the mini-batch.
 */
export class Word2Vec extends Module {
  readonly inputEmbedding: Embedding;
  readonly outputEmbedding: Embedding;

  constructor(readonly corpus: EncodedCorpus, readonly dim: number, readonly mode: 'skipgram' | 'cbow', generator?: Generator) {
    super();
    const V = corpus.vocab.size;
    this.inputEmbedding = new Embedding(V, dim);
    if (generator) uniform_(this.inputEmbedding.weight, -0.5 / dim, 0.5 / dim, generator);
    else uniform_(this.inputEmbedding.weight, -0.5 / dim, 0.5 / dim);
    this.outputEmbedding = new Embedding(V, dim);
    zeros_(this.outputEmbedding.weight);
  }

  /**
   * Loss of a mini-batch: `inputs` [B] centre ids (skip-gram) or [B, C] context ids with `mask`
   * [B, C] (CBOW), `targets` [B], `negatives` [B, k].
   */
  override forward(inputs: Tensor, targets: Tensor, negatives: Tensor, mask?: Tensor): Tensor {
    return negativeSamplingLoss(this.inputEmbedding, this.outputEmbedding, this.mode, inputs, targets, negatives, mask);
  }

  /**
   * The trained input vectors (or input + output vectors) as WordVectors; the `<unk>` row (never
   * trained) is set to the mean of the word vectors, so unknown words look up an average word
   * rather than a zero vector.
   */
  vectors(which: 'input' | 'input+output' = 'input'): WordVectors {
    if (which !== 'input' && which !== 'input+output') throw new Error(`Kiln: Word2Vec.vectors: which must be 'input' or 'input+output', got ${JSON.stringify(which)}`);
    const w = Float32Array.from(this.inputEmbedding.weight.dataSync() as Float32Array);
    if (which === 'input+output') {
      const c = this.outputEmbedding.weight.dataSync();
      for (let i = 0; i < w.length; i++) w[i] = w[i]! + c[i]!;
    }
    return vectorsWithMeanUnk(this.corpus, w, this.dim);
  }

  /** Builds the corpus, trains and returns the model and its vectors. */
  static train(sentences: Iterable<readonly string[]>, options: Word2VecOptions = {}): { model: Word2Vec; vectors: WordVectors; losses: number[] } {
    const op = 'Word2Vec.train';
    checkOptions(op, options, SPEC);
    const o = {
      mode: 'skipgram' as const, dim: 50, window: 5, negatives: 5, sample: 1e-3, minCount: 5, epochs: 1, batchSize: 1024, optimizer: 'sgd' as const,
      seed: 0, progressEvery: 50, ...options,
    };
    const lr0 = o.lr ?? (o.optimizer === 'adam' ? 0.01 : o.mode === 'cbow' ? 0.02 : 0.025);
    if (!(lr0 > 0)) throw new Error(`Kiln: ${op}: lr must be > 0, got ${lr0}`);
    if (!(o.sample >= 0)) throw new Error(`Kiln: ${op}: sample must be >= 0, got ${o.sample}`);
    const corpus = EncodedCorpus.build(sentences, { minCount: o.minCount, ...(o.maxVocab === undefined ? {} : { maxSize: o.maxVocab }), op });
    const model = new Word2Vec(corpus, o.dim, o.mode, new Generator(o.seed + 1));
    const { vectors, ...loop } = o;
    const losses = trainWord2Vec(model, { ...loop, lr: lr0 });
    return { model, vectors: model.vectors(vectors ?? 'input'), losses };
  }
}

export function vectorsWithMeanUnk(corpus: EncodedCorpus, w: Float32Array | Float64Array, dim: number): WordVectors {
  const V = corpus.vocab.size, out = Float32Array.from(w);
  const unk = corpus.vocab.indexOf(corpus.vocab.unk!);
  const mean = new Float64Array(dim);
  for (let r = 0; r < V; r++) if (r !== unk) for (let j = 0; j < dim; j++) mean[j]! += out[r * dim + j]! / (V - 1);
  out.set(mean, unk * dim);
  return new WordVectors(corpus.vocab.tokens, out, dim, { unk: corpus.vocab.unk });
}

type Resolved = Required<Omit<Word2VecOptions, 'onProgress' | 'maxVocab' | 'vectors'>> & { onProgress?: (p: TrainProgress) => void };

/** The training loop: streams (input, target) examples sentence by sentence into mini-batches. */
function trainWord2Vec(model: Word2Vec, o: Resolved): number[] {
  const { corpus } = model;
  const gen = new Generator(o.seed);
  const sampler = new UnigramSampler(corpus.counts);
  const params = model.parameters();
  const opt: Optimizer = o.optimizer === 'adam' ? new Adam(params, { lr: o.lr }) : new SGD(params, { lr: o.lr });
  const B = o.batchSize, k = o.negatives, C = 2 * o.window, cbow = o.mode === 'cbow';
  const inputs = new Int32Array(cbow ? B * C : B), mask = new Float32Array(cbow ? B * C : 0);
  const targets = new Int32Array(B), negs = new Int32Array(B * k);
  const losses: number[] = [];
  // Progress is measured in corpus tokens (the sub-sampled count is only known per epoch).
  const totalTokens = corpus.numTokens * o.epochs;
  let seenTokens = 0, n = 0, lossSum = 0, lossCount = 0, steps = 0;
  const t0 = Date.now();
  const report = (epoch: number) => {
    if (!lossCount) return;
    const p = { epoch, epochs: o.epochs, fraction: Math.min(1, seenTokens / totalTokens), loss: lossSum / lossCount, examples: lossCount, seconds: (Date.now() - t0) / 1000 };
    losses.push(p.loss);
    o.onProgress?.(p);
    lossSum = 0; lossCount = 0;
  };
  // SGD updates only the rows a batch uses (gathered into sub-tables); Adam keeps whole-table
  // steps, since its moments decay every row at every step.
  const sparse = o.optimizer === 'sgd';
  const V = corpus.vocab.size, D = model.dim;
  const slot = new Int32Array(V).fill(-1), outIds = new Int32Array(B * (k + 1));
  const sparseStep = (lr: number, inT: Tensor, maskT: Tensor | undefined): Tensor => {
    const m = inT.shape[0]!;
    outIds.set(targets.subarray(0, m), 0);
    outIds.set(negs.subarray(0, m * k), m);
    const inW = model.inputEmbedding.weight, outW = model.outputEmbedding.weight;
    const inData = inW.dataSync() as Float32Array, outData = outW.dataSync() as Float32Array;
    const gi = gatherRows(inData, D, inT.dataSync() as Int32Array, slot), go = gatherRows(outData, D, outIds.subarray(0, m * (k + 1)), slot);
    const loss = negativeSamplingLoss(gi.sub, go.sub, model.mode, new Tensor(gi.local, inT.shape, 'int32'), new Tensor(go.local.slice(0, m), [m], 'int32'),
      new Tensor(go.local.slice(m), [m, k], 'int32'), maskT);
    loss.backward();
    // plain SGD (w ← w − lr·g, the rule of @kiln/optim's SGD without momentum) on the used rows only
    for (const [g, data, w] of [[gi, inData, inW], [go, outData, outW]] as const) {
      const grad = g.sub.grad?.dataSync();
      if (!grad) continue;
      for (let r = 0; r < g.rows.length; r++) {
        const base = g.rows[r]! * D;
        for (let c = 0; c < D; c++) data[base + c] = data[base + c]! - lr * grad[r * D + c]!;
      }
      w.markModified();
    }
    return loss;
  };
  const flush = (epoch: number) => {
    if (n === 0) return;
    const lr = o.lr * Math.max(1e-4, 1 - seenTokens / totalTokens);
    if (o.optimizer === 'sgd') setLr(opt, lr);
    sampler.fill(negs, gen);
    const inT = cbow ? new Tensor(inputs.slice(0, n * C), [n, C], 'int32') : new Tensor(inputs.slice(0, n), [n], 'int32');
    const maskT = cbow ? new Tensor(mask.slice(0, n * C), [n, C], 'float32') : undefined;
    let loss: Tensor;
    if (sparse) loss = sparseStep(lr, inT, maskT);
    else {
      loss = model.forward(inT, new Tensor(targets.slice(0, n), [n], 'int32'), new Tensor(negs.slice(0, n * k), [n, k], 'int32'), maskT);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    lossSum += loss.item();
    lossCount += n;
    n = 0;
    if (++steps % o.progressEvery === 0) report(epoch);
  };
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const { tokens, starts } = corpus.subsample(o.sample, gen);
    const ratio = corpus.numTokens / Math.max(1, tokens.length);
    for (let s = 0; s + 1 < starts.length; s++) {
      const a = starts[s]!, e = starts[s + 1]!;
      for (let p = a; p < e; p++) {
        const b = 1 + gen.randint(0, o.window); // word2vec's shrunk window
        seenTokens += ratio;
        if (cbow) {
          let c = 0;
          for (let q = Math.max(a, p - b); q < Math.min(e, p + b + 1); q++) {
            if (q === p) continue;
            inputs[n * C + c] = tokens[q]!; mask[n * C + c] = 1; c++;
          }
          if (c === 0) continue;
          for (; c < C; c++) { inputs[n * C + c] = 0; mask[n * C + c] = 0; }
          targets[n] = tokens[p]!;
          if (++n === B) flush(epoch);
        } else {
          for (let q = Math.max(a, p - b); q < Math.min(e, p + b + 1); q++) {
            if (q === p) continue;
            inputs[n] = tokens[p]!; targets[n] = tokens[q]!;
            if (++n === B) flush(epoch);
          }
        }
      }
    }
    flush(epoch);
    report(epoch);
  }
  return losses;
}
