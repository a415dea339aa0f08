/**
 * @kiln/nn — modules, layers, losses, initialisers and safetensors checkpoints, named and
 * laid out like PyTorch's torch.nn.
 */
export { Tensor } from '@kiln/tensor';
export { Module, parameter, isParameter, type StateDict, type LoadStateDictOptions, type LoadStateDictResult } from './module.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { Sequential, ModuleList, Identity, Flatten } from './layers/container.js';
export { Sigmoid, Tanh, ReLU, LeakyReLU, ELU, GELU, Softmax, LogSoftmax } from './layers/activation.js';
export { Dropout } from './layers/dropout.js';
export { ReLU6, Hardsigmoid, Hardswish, SiLU, type InplaceOptions } from './layers/activation-extra.js';
export { StochasticDepth, stochasticDepth, type StochasticDepthMode, type StochasticDepthOptions } from './layers/stochastic-depth.js';
export { Dropout2d } from './layers/dropout2d.js';
export { BatchNorm3d } from './layers/batchnorm.js';
export { ConvTranspose1d, ConvTranspose3d } from './layers/conv.js';
export {
  MaxPool1d, MaxPool3d, AvgPool1d, AvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AdaptiveAvgPool1d, AdaptiveAvgPool3d,
} from './layers/pool-nd.js';
export { ZeroPad2d } from './layers/zero-pad.js';
export { LocalResponseNorm, type LocalResponseNormOptions } from './layers/local-response-norm.js';
export { GroupNorm, type GroupNormOptions } from './layers/groupnorm.js';
export { ModuleDict } from './layers/module-dict.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './layers/batchnorm.js';
export { LayerNorm, type LayerNormOptions } from './layers/layernorm.js';
export { Embedding, type EmbeddingOptions } from './layers/embedding.js';
export { Conv1d, Conv2d, Conv3d, ConvTranspose2d, type ConvLayerOptions, type ConvTransposeLayerOptions } from './layers/conv.js';
export { fuseConvBn, countFusable } from './layers/fuse.js';
export {
  MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Upsample, type MaxPool2dOptions, type AvgPool2dOptions, type UpsampleOptions,
} from './layers/pool.js';
export type { Reduction } from './losses/reduce.js';
export { mseLoss, l1Loss, huberLoss, smoothL1Loss, cosineEmbeddingLoss, l2Penalty, type LossOptions } from './losses/regression.js';
export {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, nllLoss,
  type WeightedLossOptions, type NllOptions, type CrossEntropyOptions,
} from './losses/classification.js';
export {
  MSELoss, L1Loss, HuberLoss, SmoothL1Loss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss, CosineEmbeddingLoss,
} from './losses/modules.js';
export * as init from './init.js';
export { withoutInit, deferInit, uninitialisedKeys } from './without-init.js';
export {
  calculateGain, calculateFans, zeros_, ones_, constant_, uniform_, normal_, xavierUniform_, xavierNormal_,
  kaimingUniform_, kaimingNormal_, orthogonal_, type KaimingOptions, type Nonlinearity, type FanMode,
} from './init.js';
export {
  serializeSafetensors, parseSafetensors, saveSafetensors, loadSafetensors, writeFileAtomic, type SafetensorsContents,
} from './checkpoint/safetensors.js';
export { gradcheckModule } from './gradcheck.js';
export { summary, type Summary, type SummaryRow } from './summary.js';
