export { compose, resize, centerCrop, normalize, toTensor, toImage, type Transform } from './compose.js';
export * as functional from './functional.js';
export { IMAGENET_MEAN, IMAGENET_STD, resizedSize, type Size, type ResizeOptions } from './functional.js';
