/**
 * VGG (Simonyan & Zisserman 2014) as torchvision builds it: `features` (3×3 convs, optional
 * BatchNorm, ReLU, 2×2 max pools), `avgpool` (adaptive 7×7) and `classifier` (two hidden layers
 * with dropout). Keys: `features.0.weight`, `classifier.6.weight`.
 */
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, MaxPool2d, Module, ReLU, Sequential } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import { initWeights, SmallNormalLinear } from './blocks.js';
import { checkImageInput, minInputSize } from './input-check.js';
import { checkOptions, ZOO_SPEC, type ZooOptions } from './options.js';

export interface VGGOptions extends ZooOptions {
  /** Dropout probability in the classifier (default 0.5). */
  dropout?: number;
  /** Add BatchNorm after every conv (vgg16_bn). */
  batchNorm?: boolean;
  /**
   * Width of the two hidden classifier layers (default 4096, torchvision's). Smaller values give
   * a reduced VGG whose keys are the same and whose shapes differ — for tests and small data.
   */
  hidden?: number;
  /** Divides every conv width (default 1 = torchvision's). Reduced variants only. */
  widthDivisor?: number;
}

/** Layer configurations: numbers are conv widths, 'M' a 2×2 max pool. */
export const VGG_CONFIGS = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
} as const;

export class VGG extends Module {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d([7, 7]);
  classifier: Sequential;
  readonly _inChannels: number;
  readonly _minSize: number;

  constructor(readonly _name: string, cfg: readonly (number | 'M')[], options: VGGOptions = {}) {
    super();
    checkOptions(_name, options, { ...ZOO_SPEC, dropout: 'prob', batchNorm: 'bool', hidden: 'posint', widthDivisor: 'posint' });
    this._inChannels = options.inChannels ?? 3;
    const div = options.widthDivisor ?? 1;
    const layers: Module[] = [];
    let c = this._inChannels;
    for (const v of cfg) {
      if (v === 'M') { layers.push(new MaxPool2d(2, { stride: 2 })); continue; }
      const w = Math.max(1, Math.floor(v / div));
      layers.push(new Conv2d(c, w, 3, { padding: 1 }));
      if (options.batchNorm) layers.push(new BatchNorm2d(w));
      layers.push(new ReLU());
      c = w;
    }
    this.features = new Sequential(...layers);
    this._minSize = minInputSize(cfg.filter((v) => v === 'M').map(() => ({ k: 2, s: 2 })));
    const hidden = options.hidden ?? 4096;
    const p = options.dropout ?? 0.5;
    this.classifier = new Sequential(
      new SmallNormalLinear(c * 7 * 7, hidden), new ReLU(), new Dropout(p),
      new SmallNormalLinear(hidden, hidden), new ReLU(), new Dropout(p),
      new SmallNormalLinear(hidden, options.numClasses ?? 1000),
    );
    initWeights(this, { linear: () => undefined });
  }

  override forward(x: Tensor): Tensor {
    checkImageInput(this._name, x, this._inChannels, this._minSize);
    return this.classifier.forward(this.avgpool.forward(this.features.forward(x)).flatten(1));
  }
}

/** VGG-11 (configuration A). */
export const vgg11 = (options: VGGOptions = {}): VGG => new VGG('vgg11', VGG_CONFIGS.A, options);
/** VGG-16 (configuration D); 138,357,544 parameters at 1000 classes. */
export const vgg16 = (options: VGGOptions = {}): VGG => new VGG('vgg16', VGG_CONFIGS.D, options);
/** VGG-16 with BatchNorm after every conv (torchvision's vgg16_bn). */
export const vgg16Bn = (options: Omit<VGGOptions, 'batchNorm'> = {}): VGG => {
  // BatchNorm is what this builder adds: a batchNorm option would be overridden
  const given = (options as { batchNorm?: unknown } | null)?.batchNorm;
  if (given !== undefined) throw new Error(`Kiln: vgg16Bn: option 'batchNorm' does not apply (vgg16Bn always has BatchNorm), got ${String(given)}; use vgg16 for either`);
  return new VGG('vgg16Bn', VGG_CONFIGS.D, { ...options, batchNorm: true });
};
