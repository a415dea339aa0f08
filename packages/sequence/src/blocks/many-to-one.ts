/**
 * Many-to-one (course 5.1.3.3: sentiment classification): read a whole sequence, emit one
 * output from the final hidden state.
 *
 *   h⟨t⟩ = RNN(x⟨t⟩, h⟨t−1⟩),  ŷ = W_y·h⟨T_b⟩ + b_y
 *
 * where T_b is sequence b's own length (with `lengths`; bidirectional layers contribute the
 * reverse direction's state after it has read the whole sequence backwards). Input `[T, B, in]`,
 * output `[B, out]` (logits: pair with crossEntropy, or with mseLoss for regression).
 */
import { Linear, Module } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import type { GRU, LSTM, RNN } from '../rnn/layers.js';
import { finalFeatures, makeRecurrent, runRecurrent, type RecurrentSpec } from './common.js';

export class ManyToOne extends Module {
  rnn: RNN | GRU | LSTM;
  head: Linear;

  constructor(readonly inputSize: number, readonly outputSize: number, spec: RecurrentSpec) {
    super();
    this.rnn = makeRecurrent('ManyToOne', inputSize, spec);
    this.head = new Linear(this.rnn.stateSize * this.rnn.numDirections, outputSize, { dtype: this.rnn.paramDType() });
  }

  override forward(x: Tensor, lengths?: ArrayLike<number> | Tensor): Tensor {
    const [, state] = runRecurrent(this.rnn, x, null, lengths);
    return this.head.forward(finalFeatures(this.rnn, state));
  }
}
