/** Face verification: triplet loss, online triplet mining, Siamese networks. */
export { pairwiseDistance, tripletMarginLoss, TripletMarginLoss, type PairwiseDistanceOptions, type TripletMarginLossOptions } from './triplet.js';
export { distanceMatrix, batchHardTripletLoss, batchSemiHardTripletLoss, type MiningOptions, type MinedLoss } from './mining.js';
export { SiameseNetwork, SiameseClassifier, verify, chooseThreshold, type SiameseOptions } from './siamese.js';
