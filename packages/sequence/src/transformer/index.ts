export {
  scaledDotProductAttention, MultiheadAttention, causalMask, generateSquareSubsequentMask, checkMask,
  type ScaledDotProductAttentionOptions, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions, type AttentionCache,
} from './attention.js';
export {
  TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer,
  type TransformerActivation, type TransformerLayerOptions, type EncoderLayerForwardOptions, type DecoderLayerForwardOptions,
  type DecoderLayerCache, type DecoderCache, type TransformerEncoderOptions, type TransformerOptions, type TransformerForwardOptions,
} from './layers.js';
export { sinusoidalPositionalEncoding, PositionalEncoding, LearnedPositionalEncoding, type PositionalEncodingOptions } from './positional.js';
export { TransformerSeq2Seq, type TransformerSeq2SeqOptions, type DecodeOptions } from './model.js';
export { attentionHeadsSVG, saveAttentionHeads, type HeadsPlotOptions } from './plot.js';
export { copyReverseTask, padTokens, trainSeq2Seq, exactMatch, PAD_ID, BOS_ID, EOS_ID, type TokenPair, type TrainOptions } from './tasks.js';
export { transformerGraphs, encoderInputs, decoderInputs, ENCODER_IO, DECODER_IO } from './onnx.js';
