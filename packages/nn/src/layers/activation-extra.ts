/**
 * ReLU6, Hardsigmoid, Hardswish and SiLU (MobileNet, EfficientNet). `inplace` is accepted for
 * PyTorch compatibility; Kiln always returns a new tensor, which gives the same values.
 */
import { hardsigmoid, hardswish, relu6, silu, type Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import { checkOptions } from './options.js';

export interface InplaceOptions {
  inplace?: boolean;
}

abstract class PointwiseActivation extends Module {
  constructor(layer: string, options: InplaceOptions | undefined) {
    super();
    checkOptions(layer, options, { inplace: 'boolean' });
  }
}

/** min(max(x, 0), 6). */
export class ReLU6 extends PointwiseActivation {
  constructor(options?: InplaceOptions) { super('ReLU6', options); }
  override forward(x: Tensor): Tensor { return relu6(x); }
}

/** relu6(x + 3) / 6. */
export class Hardsigmoid extends PointwiseActivation {
  constructor(options?: InplaceOptions) { super('Hardsigmoid', options); }
  override forward(x: Tensor): Tensor { return hardsigmoid(x); }
}

/** x · relu6(x + 3) / 6 (MobileNetV3). */
export class Hardswish extends PointwiseActivation {
  constructor(options?: InplaceOptions) { super('Hardswish', options); }
  override forward(x: Tensor): Tensor { return hardswish(x); }
}

/** x · sigmoid(x), a.k.a. swish (EfficientNet). */
export class SiLU extends PointwiseActivation {
  constructor(options?: InplaceOptions) { super('SiLU', options); }
  override forward(x: Tensor): Tensor { return silu(x); }
}
