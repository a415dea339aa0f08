/** @kiln/data — datasets, loaders, splits, normalisation, augmentation, metrics and hyperparameter search. */
export { type Dataset, TensorDataset, Subset, randomSplit, DataLoader, type DataLoaderOptions, takeRows } from './dataset.js';
export { Standardizer, normalize } from './normalize.js';
export { oneHot } from '@kiln/tensor';
export { randomHorizontalFlip, randomCrop, colorShift, randomRotation } from './augment.js';
export { loadMnist, loadMnistSplits, type MnistSplitsOptions, type MnistSplit } from './datasets/mnist.js';
export { planarFlower, moons, circles, spirals, type Points } from './datasets/synthetic.js';
export { colorShapes, SHAPE_CLASSES, type ColorShapesOptions, type LabelledSet } from './datasets/shapes.js';
export { ecgBeats, BEAT_CLASSES, type EcgBeatsOptions } from './datasets/signals.js';
export { movingShapes, CLIP_CLASSES, type MovingShapesOptions } from './datasets/clips.js';
export {
  localizationShapes, shapeLandmarks, type LocalizationShapesOptions, type LocalizationSet, type ShapeLandmarksOptions, type LandmarkSet,
} from './datasets/localization.js';
export { detectionShapes, DETECTION_CLASSES, type DetectionShapesOptions, type DetectionSet } from './datasets/detection.js';
export { segmentationShapes, type SegmentationShapesOptions, type SegmentationSet } from './datasets/segmentation.js';
export { predictions, confusionMatrix, accuracy, precision, recall, f1Score, type ClassMetricOptions } from './metrics.js';
export { randomSearch, refineSpace, type ParamSpace, type Params, type Trial, type RandomSearchOptions } from './search.js';
