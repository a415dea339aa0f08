/**
 * AlexNet as torchvision builds it (the one-GPU variant of Krizhevsky et al. 2012 from "One weird
 * trick", without LocalResponseNorm): `features.{0,3,6,8,10}` convs, adaptive 6×6 average pool,
 * `classifier.{1,4,6}` linears. 61,100,840 parameters at 1000 classes. `lrn: true` adds the 2012
 * paper's LocalResponseNorm (size 5, α 1e-4, β 0.75, k 2) after the first two ReLUs — which
 * shifts the `features` indices, so that variant does not take torchvision checkpoints.
 */
import { AdaptiveAvgPool2d, Conv2d, Dropout, Linear, LocalResponseNorm, MaxPool2d, Module, ReLU, Sequential } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import { checkImageInput, minInputSize } from './input-check.js';
import { checkOptions, ZOO_SPEC, type ZooOptions } from './options.js';

export interface AlexNetOptions extends ZooOptions {
  /** Dropout probability in the classifier (default 0.5). */
  dropout?: number;
  /** Width of the hidden classifier layers (default 4096). Reduced variants only. */
  hidden?: number;
  /** Divides every conv width (default 1). Reduced variants only. */
  widthDivisor?: number;
  /** Insert LocalResponseNorm after the first two ReLUs, as in the 2012 paper (default false). */
  lrn?: boolean;
}

const CHAIN = [{ k: 11, s: 4, p: 2 }, { k: 3, s: 2 }, { k: 5, p: 2 }, { k: 3, s: 2 }, { k: 3, p: 1 }, { k: 3, s: 2 }];

export class AlexNet extends Module {
  readonly _name = 'alexnet';
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d([6, 6]);
  classifier: Sequential;
  readonly _inChannels: number;
  readonly _minSize = minInputSize(CHAIN);

  constructor(options: AlexNetOptions = {}) {
    super();
    checkOptions('alexnet', options, { ...ZOO_SPEC, dropout: 'prob', hidden: 'posint', widthDivisor: 'posint', lrn: 'bool' });
    this._inChannels = options.inChannels ?? 3;
    const div = options.widthDivisor ?? 1;
    const [c1, c2, c3, c4, c5] = [64, 192, 384, 256, 256].map((c) => Math.max(1, Math.floor(c / div))) as [number, number, number, number, number];
    const lrn = () => (options.lrn ? [new LocalResponseNorm(5, { alpha: 1e-4, beta: 0.75, k: 2 })] : []);
    this.features = new Sequential(
      new Conv2d(this._inChannels, c1, 11, { stride: 4, padding: 2 }), new ReLU(), ...lrn(), new MaxPool2d(3, { stride: 2 }),
      new Conv2d(c1, c2, 5, { padding: 2 }), new ReLU(), ...lrn(), new MaxPool2d(3, { stride: 2 }),
      new Conv2d(c2, c3, 3, { padding: 1 }), new ReLU(),
      new Conv2d(c3, c4, 3, { padding: 1 }), new ReLU(),
      new Conv2d(c4, c5, 3, { padding: 1 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
    );
    const hidden = options.hidden ?? 4096;
    const p = options.dropout ?? 0.5;
    this.classifier = new Sequential(
      new Dropout(p), new Linear(c5 * 6 * 6, hidden), new ReLU(),
      new Dropout(p), new Linear(hidden, hidden), new ReLU(),
      new Linear(hidden, options.numClasses ?? 1000),
    );
  }

  override forward(x: Tensor): Tensor {
    checkImageInput('alexnet', x, this._inChannels, this._minSize);
    return this.classifier.forward(this.avgpool.forward(this.features.forward(x)).flatten(1));
  }
}

/** AlexNet (torchvision layout; PyTorch's default layer initialisation, as torchvision keeps). */
export const alexnet = (options: AlexNetOptions = {}): AlexNet => new AlexNet(options);
