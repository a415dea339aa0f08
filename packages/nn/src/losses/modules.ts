import type { Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, nllLoss,
  type CrossEntropyOptions, type NllOptions, type WeightedLossOptions,
} from './classification.js';
import { cosineEmbeddingLoss, huberLoss, l1Loss, mseLoss, smoothL1Loss, type LossOptions } from './regression.js';

/** Module forms of the loss functions: `new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, y)`. */
export class MSELoss extends Module {
  constructor(readonly options: LossOptions = {}) { super(); }
  override forward(input: Tensor, target: Tensor): Tensor { return mseLoss(input, target, this.options); }
}

export class L1Loss extends Module {
  constructor(readonly options: LossOptions = {}) { super(); }
  override forward(input: Tensor, target: Tensor): Tensor { return l1Loss(input, target, this.options); }
}

export class HuberLoss extends Module {
  constructor(readonly options: LossOptions & { delta?: number } = {}) { super(); }
  override forward(input: Tensor, target: Tensor): Tensor { return huberLoss(input, target, this.options); }
}

export class SmoothL1Loss extends Module {
  constructor(readonly options: LossOptions & { beta?: number } = {}) { super(); }
  override forward(input: Tensor, target: Tensor): Tensor { return smoothL1Loss(input, target, this.options); }
}

export class BCELoss extends Module {
  constructor(readonly options: WeightedLossOptions = {}) { super(); }
  override forward(input: Tensor, target: Tensor): Tensor { return binaryCrossEntropy(input, target, this.options); }
}

export class BCEWithLogitsLoss extends Module {
  constructor(readonly options: WeightedLossOptions & { posWeight?: Tensor | number } = {}) { super(); }
  override forward(input: Tensor, target: Tensor): Tensor { return binaryCrossEntropyWithLogits(input, target, this.options); }
}

export class CrossEntropyLoss extends Module {
  constructor(readonly options: CrossEntropyOptions = {}) { super(); }
  override forward(input: Tensor, target: Tensor): Tensor { return crossEntropy(input, target, this.options); }
}

export class NLLLoss extends Module {
  constructor(readonly options: NllOptions = {}) { super(); }
  override forward(input: Tensor, target: Tensor): Tensor { return nllLoss(input, target, this.options); }
}

export class CosineEmbeddingLoss extends Module {
  constructor(readonly options: LossOptions & { margin?: number } = {}) { super(); }
  override forward(x1: Tensor, x2: Tensor, target: Tensor): Tensor { return cosineEmbeddingLoss(x1, x2, target, this.options); }
}
