/** @kiln/vision — the CNN zoo, image I/O and transforms, transfer learning and visualisation. */
export {
  type Image, checkImage, convertChannels, decodePng, encodePng, decodeJpeg, encodeJpeg, decodeImage, readImage, writeImage, type DecodeOptions,
} from './image/index.js';
export {
  compose, resize, centerCrop, normalize, toTensor, toImage, functional, IMAGENET_MEAN, IMAGENET_STD, resizedSize,
  type Transform, type Size, type ResizeOptions,
} from './transforms/index.js';
export { freeze, unfreeze, isFrozen, trainableParameters, cacheFeatures, loadCachedFeatures, type CacheFeaturesOptions } from './transfer/index.js';
export * from './models/index.js';
export { loadTorchvisionWeights, loadTorchvisionStateDict, type LoadTorchvisionWeightsResult } from './weights.js';
export {
  makeGrid, saveImageGrid, receptiveField, measuredReceptiveField, layerOutput, featureMapGrid, saveFeatureMaps, topActivatingPatches, saveTopPatches,
  type GridOptions, type ReceptiveField, type FeatureMapOptions, type TopPatchesOptions, type TopPatches,
} from './visualize/index.js';
export { replaceHead } from './transfer/replace-head.js';
export * from './detection/index.js';
export * from './segmentation/index.js';
export * from './face/index.js';
export * from './style/index.js';
