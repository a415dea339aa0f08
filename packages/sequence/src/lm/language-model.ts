/**
 * A recurrent language model: token ids → embedding → LSTM/GRU/RNN → linear → next-token logits.
 * The same module serves characters (the course's dinosaur-name model) and words.
 */
import { Tensor, checkOptions, type OptionKind } from '@kiln/tensor';
import { Dropout, Embedding, Linear, Module } from '@kiln/nn';
import { GRU, LSTM, RNN } from '../rnn/layers.js';

/** A recurrent state: h (RNN, GRU) or [h, c] (LSTM), each [numLayers, batch, hidden]. */
export type RecurrentState = Tensor | readonly RecurrentState[];

export interface LanguageModelOptions {
  /** 'lstm' (default), 'gru' or 'rnn' (tanh). */
  cell?: 'lstm' | 'gru' | 'rnn';
  /** Embedding size (default 32). */
  embeddingDim?: number;
  /** Hidden size of the recurrent layer (default 64). */
  hiddenSize?: number;
  numLayers?: number;
  /** Dropout on the embeddings, between layers and before the output layer, in training (default 0). */
  dropout?: number;
  /** The padding id: its embedding row stays zero and gets no gradient. */
  padId?: number;
  dtype?: 'float32' | 'float64';
}

const SPEC: Record<string, OptionKind> = {
  cell: ['lstm', 'gru', 'rnn'], embeddingDim: 'number', hiddenSize: 'number', numLayers: 'number', dropout: 'number', padId: 'int', dtype: ['float32', 'float64'],
};

/**
 * `forward(ids [B, T])` → logits `[B, T, vocabSize]` from the zero state;
 * `forwardWithState(ids, state)` continues from a carried state (sampling, truncated BPTT).
 * State-dict keys: `embedding.weight`, `rnn.weight_ih_l0`…, `decoder.weight`, `decoder.bias`.
 */
export class RNNLanguageModel extends Module {
  embedding: Embedding;
  rnn: LSTM | GRU | RNN;
  drop: Dropout;
  decoder: Linear;
  readonly cell: 'lstm' | 'gru' | 'rnn';

  constructor(readonly vocabSize: number, options: LanguageModelOptions = {}) {
    super();
    const op = 'RNNLanguageModel';
    checkOptions(op, options, SPEC);
    if (!(Number.isInteger(vocabSize) && vocabSize >= 2)) throw new Error(`Kiln: ${op}: vocabSize must be an integer >= 2, got ${String(vocabSize)}`);
    const cell = options.cell ?? 'lstm';
    if (cell !== 'lstm' && cell !== 'gru' && cell !== 'rnn') throw new Error(`Kiln: ${op}: cell must be 'lstm', 'gru' or 'rnn', got ${JSON.stringify(cell)}`);
    const e = options.embeddingDim ?? 32, h = options.hiddenSize ?? 64, layers = options.numLayers ?? 1, p = options.dropout ?? 0;
    for (const [name, v] of [['embeddingDim', e], ['hiddenSize', h], ['numLayers', layers]] as const) {
      if (!(Number.isInteger(v) && v >= 1)) throw new Error(`Kiln: ${op}: ${name} must be an integer >= 1, got ${String(v)}`);
    }
    if (!(typeof p === 'number' && p >= 0 && p < 1)) throw new Error(`Kiln: ${op}: dropout must be in [0, 1), got ${String(options.dropout)}`);
    const dtype = options.dtype ?? 'float32';
    this.cell = cell;
    this.embedding = new Embedding(vocabSize, e, { dtype, ...(options.padId !== undefined ? { paddingIdx: options.padId } : {}) });
    const rnnOptions = { batchFirst: true, numLayers: layers, dropout: layers > 1 ? p : 0, dtype };
    this.rnn = cell === 'lstm' ? new LSTM(e, h, rnnOptions) : cell === 'gru' ? new GRU(e, h, rnnOptions) : new RNN(e, h, rnnOptions);
    this.drop = new Dropout(p);
    this.decoder = new Linear(h, vocabSize, { dtype });
  }

  private checkIds(ids: Tensor): void {
    const op = 'RNNLanguageModel';
    if (!(ids instanceof Tensor)) throw new Error(`Kiln: ${op}: input must be a Tensor of int32 token ids [batch, time]`);
    if (ids.dtype !== 'int32' || ids.ndim !== 2) throw new Error(`Kiln: ${op}: input must be int32 token ids [batch, time], got ${ids.dtype} [${ids.shape.join(',')}]`);
    const d = ids.dataSync(), t = ids.shape[1]!;
    for (let i = 0; i < d.length; i++) {
      if (!(d[i]! >= 0 && d[i]! < this.vocabSize)) {
        throw new Error(`Kiln: ${op}: token id ${d[i]} at [${Math.floor(i / t)}, ${i % t}] out of range for a vocabulary of ${this.vocabSize}`);
      }
    }
  }

  forwardWithState(ids: Tensor, state: RecurrentState | null): [Tensor, RecurrentState] {
    this.checkIds(ids);
    const x = this.drop.forward(this.embedding.forward(ids));
    let out: Tensor, next: RecurrentState;
    if (this.rnn instanceof LSTM) {
      if (state !== null && !(Array.isArray(state) && state.length === 2)) throw new Error('Kiln: RNNLanguageModel: an LSTM state must be [h, c]');
      const [o, hc] = this.rnn.forward(x, state as [Tensor, Tensor] | null);
      out = o; next = hc;
    } else {
      if (state !== null && !(state instanceof Tensor)) throw new Error(`Kiln: RNNLanguageModel: a ${this.cell.toUpperCase()} state must be a Tensor h`);
      const [o, h] = this.rnn.forward(x, state as Tensor | null);
      out = o; next = h;
    }
    return [this.decoder.forward(this.drop.forward(out)), next];
  }

  override forward(ids: Tensor): Tensor {
    return this.forwardWithState(ids, null)[0];
  }
}
