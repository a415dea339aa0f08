import { checkOptions, type Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import {
  BCE_LOGITS_KEYS, binaryCrossEntropy, binaryCrossEntropyWithLogits, CROSS_ENTROPY_KEYS, crossEntropy, NLL_KEYS, nllLoss, WEIGHTED_KEYS,
  type CrossEntropyOptions, type NllOptions, type WeightedLossOptions,
} from './classification.js';
import {
  COSINE_EMBEDDING_KEYS, cosineEmbeddingLoss, HUBER_KEYS, huberLoss, l1Loss, LOSS_KEYS, mseLoss, SMOOTH_L1_KEYS, smoothL1Loss, type LossOptions,
} from './regression.js';

/** Module forms of the loss functions: `new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, y)`. */
export class MSELoss extends Module {
  constructor(readonly options: LossOptions = {}) { super(); checkOptions('MSELoss', options, LOSS_KEYS); }
  override forward(input: Tensor, target: Tensor): Tensor { return mseLoss(input, target, this.options); }
}

export class L1Loss extends Module {
  constructor(readonly options: LossOptions = {}) { super(); checkOptions('L1Loss', options, LOSS_KEYS); }
  override forward(input: Tensor, target: Tensor): Tensor { return l1Loss(input, target, this.options); }
}

export class HuberLoss extends Module {
  constructor(readonly options: LossOptions & { delta?: number } = {}) { super(); checkOptions('HuberLoss', options, HUBER_KEYS); }
  override forward(input: Tensor, target: Tensor): Tensor { return huberLoss(input, target, this.options); }
}

export class SmoothL1Loss extends Module {
  constructor(readonly options: LossOptions & { beta?: number } = {}) { super(); checkOptions('SmoothL1Loss', options, SMOOTH_L1_KEYS); }
  override forward(input: Tensor, target: Tensor): Tensor { return smoothL1Loss(input, target, this.options); }
}

export class BCELoss extends Module {
  constructor(readonly options: WeightedLossOptions = {}) { super(); checkOptions('BCELoss', options, WEIGHTED_KEYS); }
  override forward(input: Tensor, target: Tensor): Tensor { return binaryCrossEntropy(input, target, this.options); }
}

export class BCEWithLogitsLoss extends Module {
  constructor(readonly options: WeightedLossOptions & { posWeight?: Tensor | number } = {}) { super(); checkOptions('BCEWithLogitsLoss', options, BCE_LOGITS_KEYS); }
  override forward(input: Tensor, target: Tensor): Tensor { return binaryCrossEntropyWithLogits(input, target, this.options); }
}

export class CrossEntropyLoss extends Module {
  constructor(readonly options: CrossEntropyOptions = {}) { super(); checkOptions('CrossEntropyLoss', options, CROSS_ENTROPY_KEYS); }
  override forward(input: Tensor, target: Tensor): Tensor { return crossEntropy(input, target, this.options); }
}

export class NLLLoss extends Module {
  constructor(readonly options: NllOptions = {}) { super(); checkOptions('NLLLoss', options, NLL_KEYS); }
  override forward(input: Tensor, target: Tensor): Tensor { return nllLoss(input, target, this.options); }
}

export class CosineEmbeddingLoss extends Module {
  constructor(readonly options: LossOptions & { margin?: number } = {}) { super(); checkOptions('CosineEmbeddingLoss', options, COSINE_EMBEDDING_KEYS); }
  override forward(x1: Tensor, x2: Tensor, target: Tensor): Tensor { return cosineEmbeddingLoss(x1, x2, target, this.options); }
}
