/** Recurrent language models: the model, batches, losses and scores. */
export { RNNLanguageModel, type LanguageModelOptions, type RecurrentState } from './language-model.js';
export { LMBatches, lmBatch, IGNORE_INDEX, type LMBatchOptions } from './data.js';
export { lmLoss, evaluateLM, sequenceLogProbs, unigramPerplexity, type LMScore } from './evaluate.js';
