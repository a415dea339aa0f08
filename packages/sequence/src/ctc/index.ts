/** CTC: the loss (PyTorch's semantics), greedy and prefix-beam decoding, and the digit-strip model. */
export { ctcLoss, CTCLoss, type CTCLossOptions, type CTCReduction } from './loss.js';
export type { CTCLengths } from './lengths.js';
export { ctcGreedyDecode, ctcBeamSearch, type CTCGreedyDecodeOptions, type CTCBeamSearchOptions, type CTCHypothesis } from './decode.js';
export { makeDigitStrips, digitClass, type DigitStripOptions, type DigitStrips } from './digit-strips.js';
export { CRNN, type CRNNOptions } from './crnn.js';
