/**
 * MobileNetV1 (Howard et al. 2017; torchvision has none): a 3×3 stem then 13 depthwise-separable
 * blocks (3×3 depthwise conv → BN → ReLU, 1×1 pointwise conv → BN → ReLU), global average pool,
 * dropout and a linear classifier. Width multiplier α scales every layer's channels (⌊c·α⌋, at
 * least 8, as the TF reference's `depth()`); resolution multiplier ρ sets `model.inputSize`
 * (224·ρ) — the network itself takes any size ≥ 32 because it ends in a global pool.
 * 4,231,976 parameters at α = 1 and 1000 classes. Keys: `features.0.0.weight`,
 * `features.1.depthwise.0.weight`, `features.1.pointwise.1.running_mean`, `classifier.1.weight`.
 */
import { Dropout, Linear, Module, ReLU, Sequential } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import { ConvNormActivation, initWeights } from './blocks.js';
import { checkImageInput, minInputSize } from './input-check.js';
import { checkOptions, ZOO_SPEC, type ZooOptions } from './options.js';

export interface MobileNetV1Options extends ZooOptions {
  /** Width multiplier α in (0, ∞), typically 1, 0.75, 0.5 or 0.25 (default 1). */
  alpha?: number;
  /** Resolution multiplier ρ: `model.inputSize` = round(224·ρ) (default 1). */
  rho?: number;
  /** Dropout before the classifier (default 0.001, the TF reference's). */
  dropout?: number;
}

const relu = () => new ReLU();

/** Depthwise 3×3 conv block then pointwise 1×1 conv block. */
export class DepthwiseSeparable extends Module {
  depthwise: ConvNormActivation;
  pointwise: ConvNormActivation;
  constructor(inChannels: number, outChannels: number, stride: number) {
    super();
    this.depthwise = new ConvNormActivation(inChannels, inChannels, 3, { stride, groups: inChannels, activation: relu });
    this.pointwise = new ConvNormActivation(inChannels, outChannels, 1, { activation: relu });
  }
  override forward(x: Tensor): Tensor {
    return this.pointwise.forward(this.depthwise.forward(x));
  }
}

/** [output channels, stride] of the 13 separable blocks (the paper's Table 1). */
const BLOCKS: readonly (readonly [number, number])[] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

export class MobileNetV1 extends Module {
  readonly _name = 'mobilenetV1';
  features: Sequential;
  classifier: Sequential;
  readonly inputSize: number;
  readonly _inChannels: number;
  readonly _minSize: number;

  constructor(options: MobileNetV1Options = {}) {
    super();
    checkOptions('mobilenetV1', options, { ...ZOO_SPEC, alpha: 'posnum', rho: 'posnum', dropout: 'prob' });
    this._inChannels = options.inChannels ?? 3;
    const alpha = options.alpha ?? 1;
    this.inputSize = Math.round(224 * (options.rho ?? 1));
    const depth = (c: number) => Math.max(8, Math.floor(c * alpha));
    let c = depth(32);
    const layers: Module[] = [new ConvNormActivation(this._inChannels, c, 3, { stride: 2, activation: relu })];
    const chain = [{ k: 3, s: 2, p: 1 }];
    for (const [out, stride] of BLOCKS) {
      layers.push(new DepthwiseSeparable(c, depth(out), stride));
      if (stride > 1) chain.push({ k: 3, s: stride, p: 1 });
      c = depth(out);
    }
    this.features = new Sequential(...layers);
    this.classifier = new Sequential(new Dropout(options.dropout ?? 0.001), new Linear(c, options.numClasses ?? 1000));
    this._minSize = minInputSize(chain);
    initWeights(this, {});
  }

  override forward(x: Tensor): Tensor {
    checkImageInput('mobilenetV1', x, this._inChannels, this._minSize);
    return this.classifier.forward(this.features.forward(x).mean([2, 3]));
  }
}

/** MobileNetV1 with width multiplier `alpha` and resolution multiplier `rho`. */
export const mobilenetV1 = (options: MobileNetV1Options = {}): MobileNetV1 => new MobileNetV1(options);
