/** Sentiment classification from word embeddings (averaging and LSTM models, labelled data from a lexicon). */
export { makeSentimentData, splitLexicon, type SentimentExample, type SentimentKind, type SentimentDataOptions } from './data.js';
export { AverageClassifier, LSTMClassifier, batchIds, type EmbeddingInit } from './models.js';
export { trainClassifier, classifierAccuracy, type TrainClassifierOptions } from './train.js';
