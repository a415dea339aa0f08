/**
 * The course's two sentiment models (5.2.3.1): the average of a sentence's word embeddings →
 * linear → softmax, and embeddings → LSTM → linear → softmax ("Emojify"). Both take padded ids
 * [B, T] (pad id 0) and lengths [B] (int32), return logits [B, classes], and export to ONNX
 * (Embedding → Gather, the LSTM with sequence_lens).
 */
import { Tensor, checkOptions } from '@kiln/tensor';
import { Embedding, Linear, Module } from '@kiln/nn';
import { LSTM } from '../rnn/layers.js';
import { Vocab } from '../text/vocab.js';
import { WordVectors } from '../embeddings/word-vectors.js';

export interface EmbeddingInit {
  /** Pretrained vectors for the vocabulary's words (unknown words get the unk row, or random without one). */
  vectors?: WordVectors;
  /** Freeze the embedding (default false: fine-tuned). */
  freeze?: boolean;
  /** Embedding size when there are no vectors. */
  embeddingDim?: number;
}

function makeEmbedding(op: string, vocab: Vocab, init: EmbeddingInit): Embedding {
  if (!(vocab instanceof Vocab)) throw new Error(`Kiln: ${op}: vocab must be a Vocab`);
  const pad = vocab.tokens[0];
  if (pad !== '<pad>') throw new Error(`Kiln: ${op}: the vocabulary must start with '<pad>' (id 0), got ${JSON.stringify(pad)}`);
  let emb: Embedding;
  if (init.vectors) {
    const v = init.vectors;
    const words = vocab.tokens.map((w) => (v.has(w) || v.unk !== null ? w : null));
    emb = new Embedding(vocab.size, v.dim, { paddingIdx: 0 });
    const data = emb.weight.dataSync() as Float32Array;
    words.forEach((w, r) => { if (r > 0 && w !== null) data.set(v.vector(w), r * v.dim); });
    emb.weight.markModified();
  } else {
    const d = init.embeddingDim ?? 50;
    emb = new Embedding(vocab.size, d, { paddingIdx: 0 });
  }
  if (init.freeze) emb.weight.requiresGrad_(false);
  return emb;
}

function checkInputs(op: string, ids: Tensor, lengths: Tensor): void {
  if (ids.dtype !== 'int32' || ids.ndim !== 2) throw new Error(`Kiln: ${op}: ids must be int32 [B, T], got ${ids.dtype} [${ids.shape.join(',')}]`);
  if (lengths.dtype !== 'int32' || lengths.ndim !== 1 || lengths.shape[0] !== ids.shape[0]) {
    throw new Error(`Kiln: ${op}: lengths must be int32 [${ids.shape[0]}], got ${lengths.dtype} [${lengths.shape.join(',')}]`);
  }
}

const SPEC = { vectors: (v: unknown) => (v instanceof WordVectors ? null : 'WordVectors'), freeze: 'boolean', embeddingDim: 'posint', hiddenSize: 'posint', numClasses: 'posint' } as const;

/** Average of the word embeddings of the real (non-pad) tokens → Linear → logits. */
export class AverageClassifier extends Module {
  readonly embedding: Embedding;
  readonly fc: Linear;

  constructor(readonly vocab: Vocab, options: EmbeddingInit & { numClasses?: number } = {}) {
    super();
    checkOptions('AverageClassifier', options, SPEC);
    this.embedding = makeEmbedding('AverageClassifier', vocab, options);
    this.fc = new Linear(this.embedding.embeddingDim, options.numClasses ?? 2);
  }

  override forward(ids: Tensor, lengths: Tensor): Tensor {
    checkInputs('AverageClassifier', ids, lengths);
    const e = this.embedding.forward(ids); // [B, T, D], pad rows are zero
    const mask = ids.ne(0).to(e.dtype).unsqueeze(2);
    const avg = e.mul(mask).sum(1).div(lengths.to(e.dtype).unsqueeze(1));
    return this.fc.forward(avg);
  }
}

/** Embedding → LSTM (batch first, sequence lengths) → last hidden state → Linear → logits. */
export class LSTMClassifier extends Module {
  readonly embedding: Embedding;
  readonly lstm: LSTM;
  readonly fc: Linear;

  constructor(readonly vocab: Vocab, options: EmbeddingInit & { hiddenSize?: number; numClasses?: number } = {}) {
    super();
    checkOptions('LSTMClassifier', options, SPEC);
    this.embedding = makeEmbedding('LSTMClassifier', vocab, options);
    const h = options.hiddenSize ?? 32;
    this.lstm = new LSTM(this.embedding.embeddingDim, h, { batchFirst: true });
    this.fc = new Linear(h, options.numClasses ?? 2);
  }

  override forward(ids: Tensor, lengths: Tensor): Tensor {
    checkInputs('LSTMClassifier', ids, lengths);
    const [, [hN]] = this.lstm.forward(this.embedding.forward(ids), null, { lengths });
    return this.fc.forward(hN.squeeze(0));
  }
}

/** Pads encoded sentences to [B, T] with id 0 and returns ids and lengths tensors. */
export function batchIds(vocab: Vocab, sentences: readonly (readonly string[])[]): { ids: Tensor; lengths: Tensor } {
  if (sentences.length === 0) throw new Error('Kiln: batchIds: no sentences');
  const enc = sentences.map((s, i) => {
    if (s.length === 0) throw new Error(`Kiln: batchIds: sentence ${i} is empty`);
    return vocab.encode(s);
  });
  const T = Math.max(...enc.map((e) => e.length));
  const ids = new Int32Array(enc.length * T), lengths = new Int32Array(enc.length);
  enc.forEach((e, b) => { ids.set(e, b * T); lengths[b] = e.length; });
  return { ids: new Tensor(ids, [enc.length, T], 'int32'), lengths: new Tensor(lengths, [enc.length], 'int32') };
}
