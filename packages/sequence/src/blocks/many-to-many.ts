/**
 * Many-to-many with equal lengths (course 5.1.3.3: named-entity tagging): one output per input
 * step from that step's hidden state,
 *
 *   h⟨t⟩ = RNN(x⟨t⟩, h⟨t−1⟩),  ŷ⟨t⟩ = W_y·h⟨t⟩ + b_y
 *
 * Input `[T, B, in]`, output `[T, B, out]`; with `lengths`, padded steps give the bias alone (their
 * hidden state is zero) — mask them out of the loss (see `lengthsMask`). A bidirectional layer lets
 * ŷ⟨t⟩ see the whole sequence, as tagging usually wants.
 */
import { Linear, Module } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import type { GRU, LSTM, RNN } from '../rnn/layers.js';
import { makeRecurrent, runRecurrent, type RecurrentSpec } from './common.js';

export class ManyToMany extends Module {
  rnn: RNN | GRU | LSTM;
  head: Linear;

  constructor(readonly inputSize: number, readonly outputSize: number, spec: RecurrentSpec) {
    super();
    this.rnn = makeRecurrent('ManyToMany', inputSize, spec);
    this.head = new Linear(this.rnn.stateSize * this.rnn.numDirections, outputSize, { dtype: this.rnn.paramDType() });
  }

  override forward(x: Tensor, lengths?: ArrayLike<number> | Tensor): Tensor {
    const [out] = runRecurrent(this.rnn, x, null, lengths);
    return this.head.forward(out);
  }
}
