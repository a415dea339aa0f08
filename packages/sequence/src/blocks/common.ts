/** What the sequence blocks share: building the recurrent layer and reading its final state. */
import { cat, type Tensor } from '@kiln/tensor';
import { GRU, LSTM, RNN, type LSTMOptions } from '../rnn/layers.js';
import type { RNNBaseOptions } from '../rnn/base.js';

export type CellKind = 'rnn' | 'gru' | 'lstm';

export interface RecurrentSpec extends Omit<RNNBaseOptions, 'batchFirst'> {
  /** The recurrent layer (default 'lstm'). */
  cell?: CellKind;
  hiddenSize: number;
}

export function makeRecurrent(block: string, inputSize: number, spec: RecurrentSpec): RNN | GRU | LSTM {
  if (spec === null || typeof spec !== 'object') throw new Error(`Kiln: ${block}: options must be an object with at least hiddenSize`);
  const { cell = 'lstm', hiddenSize, ...rest } = spec;
  if (cell === 'lstm') return new LSTM(inputSize, hiddenSize, rest as LSTMOptions);
  if (cell === 'gru') return new GRU(inputSize, hiddenSize, rest);
  if (cell === 'rnn') return new RNN(inputSize, hiddenSize, rest);
  throw new Error(`Kiln: ${block}: cell must be 'rnn', 'gru' or 'lstm', got '${String(cell)}'`);
}

/** Runs a layer on `[T, B, in]` with an optional state; returns [output, state] with state = hN or [hN, cN]. */
export function runRecurrent(
  rnn: RNN | GRU | LSTM, x: Tensor, state: Tensor | [Tensor, Tensor] | null, lengths?: ArrayLike<number> | Tensor,
): [Tensor, Tensor | [Tensor, Tensor]] {
  const opts = lengths ? { lengths } : undefined;
  if (rnn instanceof LSTM) return rnn.forward(x, state as [Tensor, Tensor] | null, opts);
  return rnn.forward(x, state as Tensor | null, opts);
}

/** The last layer's final hidden state, directions side by side: `[B, D·H]` (each sequence's own last step). */
export function finalFeatures(rnn: RNN | GRU | LSTM, state: Tensor | [Tensor, Tensor]): Tensor {
  const hN = Array.isArray(state) ? state[0] : state;
  const D = rnn.numDirections;
  const last = hN.narrow(0, (rnn.numLayers - 1) * D, D); // [D, B, H]
  return D === 1 ? last.squeeze(0) : cat([last.narrow(0, 0, 1).squeeze(0), last.narrow(0, 1, 1).squeeze(0)], 1);
}
