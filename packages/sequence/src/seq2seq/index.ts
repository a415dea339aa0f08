/** Sequence to sequence (course 5.3.1): date data, encoder–decoder with attention, beam search, error analysis, BLEU. */
export { DATE_FORMATS, generateDates, dateSplits, type DatePair, type DateParts, type DateOptions } from './dates.js';
export { bleu, bleuDetails, sentenceBleu, fsum, type BleuOptions, type BleuResult, type BleuSmoothing } from './bleu.js';
export { beamSearch, greedyDecode, sequenceLogProb, normalizedScore, type StepFunction, type StepResult, type BeamSearchOptions, type Hypothesis } from './beam-search.js';
export { attentionHeatmapSVG, saveAttentionHeatmap, type HeatmapOptions } from './heatmap.js';
export { attributeError, errorAnalysis, type Fault, type ErrorCase, type ErrorAnalysis, type ErrorAnalysisOptions } from './error-analysis.js';
export { EncoderDecoder, type EncoderDecoderOptions } from './attention-model.js';
