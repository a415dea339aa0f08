/** @kiln/vision/ops — box utilities named after torchvision.ops (camelCase). */
export {
  boxConvert, boxArea, boxIou, generalizedBoxIou, clipBoxesToImage, removeSmallBoxes, type BoxFormat,
} from './boxes.js';
export { nms, batchedNms } from './nms.js';
export { nonMaxSuppression, type NonMaxSuppressionOptions } from './non-max-suppression.js';
