/** Semantic segmentation: losses (pixel-wise cross-entropy, Dice) and IoU metrics; the U-Net is in models. */
export { pixelCrossEntropy, diceLoss, iouPerClass, meanIou, type DiceLossOptions, type IouOptions } from './losses.js';
