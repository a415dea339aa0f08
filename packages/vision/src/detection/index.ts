/** Detection: localisation and landmarks, sliding windows as convolutions, YOLO, anchors and mAP. */
export {
  LocalizationHead, LandmarkHead, decodeLocalization, localizationLoss, landmarkLoss, landmarkError,
  type LocalizationPrediction, type LocalizationLossOptions, type LocalizationLoss,
} from './localization.js';
export { convolutionalize } from './sliding-window.js';
export {
  encodeYoloTargets, yoloLoss, decodeYolo, postprocessYolo, shapeIou,
  type YoloConfig, type YoloTargets, type YoloLossOptions, type YoloLoss, type YoloDecoded, type Detections, type PostprocessOptions,
} from './yolo.js';
export { yoloNmsGraph, detectionsFromNms, type YoloNmsGraph, type YoloNmsExportOptions } from './yolo-nms-graph.js';
export { TinyYolo, tinyYolo, type TinyYoloOptions } from './tiny-yolo.js';
export { kMeansAnchors, anchorFit, type KMeansAnchorsOptions } from './anchors.js';
export { meanAveragePrecision, type ScoredBoxes, type GroundTruth, type MapResult } from './map.js';
export { drawBoxes, upscaleNearest, BOX_COLORS, type DrawBoxesOptions } from './draw.js';
