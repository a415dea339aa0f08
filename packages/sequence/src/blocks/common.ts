/** What the sequence blocks share: building the recurrent layer and reading its final state. */
import { cat, checkOptions, type OptionKind, type Tensor } from '@kiln/tensor';
import { GRU, LSTM, RNN, type LSTMOptions } from '../rnn/layers.js';
import { BASE_OPTION_SPEC, type RNNBaseOptions } from '../rnn/base.js';

export type CellKind = 'rnn' | 'gru' | 'lstm';

export interface RecurrentSpec extends Omit<RNNBaseOptions, 'batchFirst'> {
  /** The recurrent layer (default 'lstm'). */
  cell?: CellKind;
  hiddenSize: number;
}

export function makeRecurrent(block: string, inputSize: number, spec: RecurrentSpec): RNN | GRU | LSTM {
  if (spec === null || typeof spec !== 'object') throw new Error(`Kiln: ${block}: options must be an object with at least hiddenSize`);
  checkSpec(block, spec);
  const { cell = 'lstm', hiddenSize, ...rest } = spec;
  if (cell === 'lstm') return new LSTM(inputSize, hiddenSize, rest as LSTMOptions);
  if (cell === 'gru') return new GRU(inputSize, hiddenSize, rest);
  if (cell === 'rnn') return new RNN(inputSize, hiddenSize, rest);
  throw new Error(`Kiln: ${block}: cell must be 'rnn', 'gru' or 'lstm', got '${String(cell)}'`);
}

const CELL_OPTIONS: Record<string, Record<string, OptionKind>> = {
  lstm: { projSize: 'nonnegint', peephole: 'boolean' },
  gru: { variant: ['pytorch', 'course'] },
  rnn: { nonlinearity: ['tanh', 'relu'] },
};

/**
 * The block's recurrent spec through the shared checkOptions, named after the block: the layers'
 * options but batchFirst (blocks run time-major), plus `cell`, `hiddenSize` and the chosen cell's own options.
 */
export function checkSpec(block: string, spec: RecurrentSpec): void {
  const { batchFirst: _timeMajor, ...base } = BASE_OPTION_SPEC;
  const cell = (spec as { cell?: unknown } | null)?.cell ?? 'lstm';
  checkOptions(block, spec, { cell: ['rnn', 'gru', 'lstm'], hiddenSize: 'number', ...base, ...(CELL_OPTIONS[cell as string] ?? {}) });
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
