/** Word embeddings: word2vec, GloVe, word-vector queries and files, evaluation, plots and debiasing. */
export { WordVectors, type Neighbour, type AnalogyMethod } from './word-vectors.js';
export { EncodedCorpus, UnigramSampler } from './corpus.js';
export { Word2Vec, type Word2VecOptions, type TrainProgress } from './word2vec.js';
export { GloVe, SparseAdagrad, countCooccurrences, gloveWeight, type GloVeOptions, type Cooccurrences } from './glove.js';
export {
  loadTextVectors, saveTextVectors, loadBinaryVectors, parseBinaryVectors, saveBinaryVectors, saveWordVectors, loadWordVectors, type LoadTextOptions,
} from './formats.js';
export {
  analogyAccuracy, similarityRanking, similarityCorrelation, spearman, questionsFromPairs, type AnalogyQuestion, type AnalogyOptions, type AnalogyResult, type AnalogyScore,
  type RankingResult, type SimilarityResult,
} from './evaluate.js';
export { pca, type PCAResult } from './pca.js';
export { plotWordsSvg, savePlotSvg, type PlotOptions } from './plot.js';
export { biasDirection, neutralize, equalize, hardDebias, type HardDebiasOptions } from './debias.js';
