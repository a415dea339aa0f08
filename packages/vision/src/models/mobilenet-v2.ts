/**
 * MobileNetV2 (Sandler et al. 2018) as torchvision builds it: inverted residual blocks (1×1
 * expansion, 3×3 depthwise, linear 1×1 projection), ReLU6, channels rounded by `makeDivisible`.
 * Keys: `features.0.0.weight`, `features.1.conv.0.0.weight`, `classifier.1.weight`.
 * 3,504,872 parameters at width 1.0 and 1000 classes.
 *
 * `invertedResidualSetting` (torchvision's `inverted_residual_setting`), `stemStride` and
 * `lastChannel` reduce it for small images: at the defaults a 32×32 image ends at 1×1 after 17
 * blocks into a 1280-wide head, a net that sits near chance for epochs on small generated sets
 * (the 1280 features also make each Adam step move the logits a lot). Keys keep the same
 * pattern; only the count of `features.*` entries and the shapes change.
 */
import { Conv2d, BatchNorm2d, Dropout, Linear, Module, ReLU6, Sequential } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import { ConvNormActivation, initWeights, makeDivisible } from './blocks.js';
import { checkImageInput, minInputSize } from './input-check.js';
import { checkOptions, ZOO_SPEC, type ZooOptions } from './options.js';

export interface MobileNetV2Options extends ZooOptions {
  /** Width multiplier α on every layer's channels (default 1.0). */
  widthMult?: number;
  /** Channels are rounded to a multiple of this (default 8). */
  roundNearest?: number;
  /** Dropout before the classifier (default 0.2). */
  dropout?: number;
  /**
   * The stages as [expansion t, channels c, repeats n, first stride s] rows, channels before
   * `widthMult` (default {@link MOBILENET_V2_SETTING}, the paper's Table 2).
   */
  invertedResidualSetting?: InvertedResidualSetting;
  /** Stride of the first 3×3 conv (default 2; 1 keeps the detail of 32×32 images, CIFAR-style). */
  stemStride?: number;
  /** Channels of the last 1×1 conv, the classifier's input (default 1280 · max(1, widthMult), rounded). */
  lastChannel?: number;
}

/** MobileNetV2's stages: rows of [expansion t, output channels c, repeats n, first stride s]. */
export type InvertedResidualSetting = readonly (readonly [t: number, c: number, n: number, s: number])[];

const relu6 = () => new ReLU6();

export class InvertedResidual extends Module {
  conv: Sequential;
  readonly _useResConnect: boolean;
  constructor(inp: number, oup: number, stride: number, expandRatio: number) {
    super();
    const hidden = Math.round(inp * expandRatio);
    this._useResConnect = stride === 1 && inp === oup;
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(new ConvNormActivation(inp, hidden, 1, { activation: relu6 }));
    layers.push(
      new ConvNormActivation(hidden, hidden, 3, { stride, groups: hidden, activation: relu6 }),
      new Conv2d(hidden, oup, 1, { bias: false }),
      new BatchNorm2d(oup),
    );
    this.conv = new Sequential(...layers);
  }
  override forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return this._useResConnect ? x.add(y) : y;
  }
}

/** [expansion t, channels c, repeats n, first stride s] per stage, from the paper's Table 2 (torchvision's default). */
export const MOBILENET_V2_SETTING: InvertedResidualSetting = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

/** Why `v` is not a stage table (for checkOptions), or null when it is one. */
function settingProblem(v: unknown): string | null {
  const row = (r: unknown) => Array.isArray(r) && r.length === 4 && r.every((x) => Number.isInteger(x) && x > 0);
  return Array.isArray(v) && v.length > 0 && v.every(row)
    ? null : 'a non-empty array of [t, c, n, s] rows of positive integers';
}

export class MobileNetV2 extends Module {
  readonly _name = 'mobilenetV2';
  features: Sequential;
  classifier: Sequential;
  readonly _inChannels: number;
  readonly _minSize: number;

  constructor(options: MobileNetV2Options = {}) {
    super();
    checkOptions('mobilenetV2', options, {
      ...ZOO_SPEC, widthMult: 'posnum', roundNearest: 'posint', dropout: 'prob',
      invertedResidualSetting: settingProblem, stemStride: 'posint', lastChannel: 'posint',
    });
    this._inChannels = options.inChannels ?? 3;
    const width = options.widthMult ?? 1;
    const round = options.roundNearest ?? 8;
    const stem = options.stemStride ?? 2;
    let input = makeDivisible(32 * width, round);
    const last = options.lastChannel ?? makeDivisible(1280 * Math.max(1, width), round);
    const layers: Module[] = [new ConvNormActivation(this._inChannels, input, 3, { stride: stem, activation: relu6 })];
    const chain = [{ k: 3, s: stem, p: 1 }];
    for (const [t, c, n, s] of options.invertedResidualSetting ?? MOBILENET_V2_SETTING) {
      const out = makeDivisible(c * width, round);
      for (let i = 0; i < n; i++) {
        layers.push(new InvertedResidual(input, out, i === 0 ? s : 1, t));
        if (i === 0 && s > 1) chain.push({ k: 3, s, p: 1 });
        input = out;
      }
    }
    layers.push(new ConvNormActivation(input, last, 1, { activation: relu6 }));
    this.features = new Sequential(...layers);
    this.classifier = new Sequential(new Dropout(options.dropout ?? 0.2), new Linear(last, options.numClasses ?? 1000));
    this._minSize = minInputSize(chain);
    initWeights(this, {});
  }

  override forward(x: Tensor): Tensor {
    checkImageInput('mobilenetV2', x, this._inChannels, this._minSize);
    return this.classifier.forward(this.features.forward(x).mean([2, 3]));
  }
}

/** MobileNetV2 with width multiplier `widthMult`, torchvision layout. */
export const mobilenetV2 = (options: MobileNetV2Options = {}): MobileNetV2 => new MobileNetV2(options);
