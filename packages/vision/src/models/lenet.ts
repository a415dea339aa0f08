/**
 * LeNet-5 (LeCun et al. 1998) for 1×32×32 images: C1 conv 6@5×5 → S2 pool → C3 conv 16@5×5 →
 * S4 pool → C5 conv 120@5×5 → F6 linear 84 → output. The 'classic' form uses tanh and average
 * pooling (plain tanh, full C3 connectivity and a linear output layer in place of the paper's
 * scaled tanh, partial C3 table and RBF units); 'modern' uses ReLU and max pooling. 61,706
 * parameters at 10 classes. Keys: `features.{0,3,6}.weight`, `classifier.{0,2}.weight`.
 */
import { AvgPool2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, Tanh } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import { checkImageInput, minInputSize } from './input-check.js';
import { checkOptions, ZOO_SPEC, type ZooOptions } from './options.js';

export interface LeNet5Options extends ZooOptions {
  /** 'classic' (tanh + average pooling, default) or 'modern' (ReLU + max pooling). */
  variant?: 'classic' | 'modern';
}

const CHAIN = [{ k: 5 }, { k: 2, s: 2 }, { k: 5 }, { k: 2, s: 2 }, { k: 5 }];

export class LeNet5 extends Module {
  readonly _name = 'lenet5';
  features: Sequential;
  classifier: Sequential;
  readonly _inChannels: number;
  readonly _minSize = minInputSize(CHAIN);

  constructor(options: LeNet5Options = {}) {
    super();
    checkOptions('lenet5', options, { ...ZOO_SPEC, variant: 'string' });
    const variant = options.variant ?? 'classic';
    if (variant !== 'classic' && variant !== 'modern') {
      throw new Error(`Kiln: lenet5: option 'variant' must be 'classic' or 'modern', got ${JSON.stringify(variant)}`);
    }
    this._inChannels = options.inChannels ?? 1;
    const act = () => (variant === 'classic' ? new Tanh() : new ReLU());
    const pool = () => (variant === 'classic' ? new AvgPool2d(2, { stride: 2 }) : new MaxPool2d(2, { stride: 2 }));
    this.features = new Sequential(
      new Conv2d(this._inChannels, 6, 5), act(), pool(),
      new Conv2d(6, 16, 5), act(), pool(),
      new Conv2d(16, 120, 5), act(),
    );
    this.classifier = new Sequential(new Linear(120, 84), act(), new Linear(84, options.numClasses ?? 10));
  }

  override forward(x: Tensor): Tensor {
    checkImageInput('lenet5', x, this._inChannels, this._minSize);
    // C5's output is 1×1 for 32×32 inputs; larger inputs are averaged down to it
    let y = this.features.forward(x);
    if (y.shape[2] !== 1 || y.shape[3] !== 1) y = y.mean([2, 3]);
    return this.classifier.forward(y.flatten(1));
  }
}

/** LeNet-5; `variant: 'classic'` (1998: tanh, average pooling) or `'modern'` (ReLU, max pooling). */
export const lenet5 = (options: LeNet5Options = {}): LeNet5 => new LeNet5(options);
