/** @kiln/sequence — recurrent layers, tokenisers, language models and sampling. */
export {};
export * from './text/index.js';
export { RNN, GRU, LSTM, type RNNOptions, type GRUOptions, type LSTMOptions } from './rnn/layers.js';
export { RNNBase, type RNNBaseOptions, type RNNForwardOptions, type RNNMode, type DirectionParams } from './rnn/base.js';
export { RNNCell, GRUCell, LSTMCell, type CellOptions, type RNNCellOptions, type GRUCellOptions, type LSTMCellOptions } from './cells/cells.js';
export { padSequence, sequenceLengths, lengthsMask, type PadSequenceOptions } from './utils/pad.js';
export * from './blocks/index.js';
export * from './lm/index.js';
export * from './sampling/index.js';
export * from './embeddings/index.js';
export * from './seq2seq/index.js';
export * from './sentiment/index.js';
export { AdditiveAttention, type AdditiveAttentionOptions, type AttentionForwardOptions } from './attention/additive.js';
export * from './transformer/index.js';
export * from './speech/index.js';
export * from './ctc/index.js';
