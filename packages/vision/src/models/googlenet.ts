/**
 * GoogLeNet / Inception v1 (Szegedy et al. 2014) as torchvision builds it: BasicConv2d = conv (no
 * bias) → BatchNorm (eps 1e-3) → ReLU, nine Inception modules (torchvision's 3×3 conv in the "5×5"
 * branch), optional auxiliary heads `aux1`/`aux2`. 6,624,904 parameters without aux heads.
 */
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Module, Sequential } from '@kiln/nn';
import { adaptiveAvgPool2d, cat, dropout, tensor, type Tensor } from '@kiln/tensor';
import { fastNormal_, initWeights } from './blocks.js';
import { checkImageInput, minInputSize } from './input-check.js';
import { checkOptions, ZOO_SPEC, type ZooOptions } from './options.js';

export interface GoogLeNetOptions extends ZooOptions {
  /** Build the two auxiliary classifiers (default false). They only run in `forwardAux` in training. */
  auxLogits?: boolean;
  /** Map ImageNet-normalised input to the ±1 scaling torchvision's pretrained weights expect (default false). */
  transformInput?: boolean;
  /** Dropout before `fc` (default 0.2). */
  dropout?: number;
  /** Dropout in the aux heads (default 0.7). */
  dropoutAux?: number;
}

export class BasicConv2d extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: { stride?: number; padding?: number } = {}) {
    super();
    this.conv = new Conv2d(inChannels, outChannels, kernelSize, { ...options, bias: false });
    this.bn = new BatchNorm2d(outChannels, { eps: 0.001 });
  }
  override forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x)).relu();
  }
}

export class Inception extends Module {
  branch1: BasicConv2d;
  branch2: Sequential;
  branch3: Sequential;
  branch4: Sequential;
  constructor(inC: number, ch1x1: number, ch3x3red: number, ch3x3: number, ch5x5red: number, ch5x5: number, poolProj: number) {
    super();
    this.branch1 = new BasicConv2d(inC, ch1x1, 1);
    this.branch2 = new Sequential(new BasicConv2d(inC, ch3x3red, 1), new BasicConv2d(ch3x3red, ch3x3, 3, { padding: 1 }));
    this.branch3 = new Sequential(new BasicConv2d(inC, ch5x5red, 1), new BasicConv2d(ch5x5red, ch5x5, 3, { padding: 1 }));
    this.branch4 = new Sequential(new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }), new BasicConv2d(inC, poolProj, 1));
  }
  override forward(x: Tensor): Tensor {
    return cat([this.branch1.forward(x), this.branch2.forward(x), this.branch3.forward(x), this.branch4.forward(x)], 1);
  }
}

export class InceptionAux extends Module {
  conv: BasicConv2d;
  fc1: Linear;
  fc2: Linear;
  constructor(inC: number, numClasses: number, readonly _p = 0.7) {
    super();
    this.conv = new BasicConv2d(inC, 128, 1);
    this.fc1 = new Linear(2048, 1024);
    this.fc2 = new Linear(1024, numClasses);
  }
  override forward(x: Tensor): Tensor {
    const y = this.conv.forward(adaptiveAvgPool2d(x, [4, 4])).flatten(1);
    return this.fc2.forward(dropout(this.fc1.forward(y).relu(), this._p, this.training));
  }
}

const CHAIN = [{ k: 7, s: 2, p: 3 }, { k: 3, s: 2, ceil: true }, { k: 3, s: 2, ceil: true }, { k: 3, s: 2, ceil: true }, { k: 2, s: 2, ceil: true }];

export class GoogLeNet extends Module {
  readonly _name = 'googlenet';
  conv1: BasicConv2d;
  maxpool1 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  conv2: BasicConv2d;
  conv3: BasicConv2d;
  maxpool2 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  inception3a = new Inception(192, 64, 96, 128, 16, 32, 32);
  inception3b = new Inception(256, 128, 128, 192, 32, 96, 64);
  maxpool3 = new MaxPool2d(3, { stride: 2, ceilMode: true });
  inception4a = new Inception(480, 192, 96, 208, 16, 48, 64);
  inception4b = new Inception(512, 160, 112, 224, 24, 64, 64);
  inception4c = new Inception(512, 128, 128, 256, 24, 64, 64);
  inception4d = new Inception(512, 112, 144, 288, 32, 64, 64);
  inception4e = new Inception(528, 256, 160, 320, 32, 128, 128);
  maxpool4 = new MaxPool2d(2, { stride: 2, ceilMode: true });
  inception5a = new Inception(832, 256, 160, 320, 32, 128, 128);
  inception5b = new Inception(832, 384, 192, 384, 48, 128, 128);
  aux1: InceptionAux | null;
  aux2: InceptionAux | null;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  dropout: Dropout;
  fc: Linear;
  readonly _inChannels: number;
  readonly _transformInput: boolean;
  readonly _minSize = minInputSize(CHAIN);

  constructor(options: GoogLeNetOptions = {}) {
    super();
    checkOptions('googlenet', options, { ...ZOO_SPEC, auxLogits: 'bool', transformInput: 'bool', dropout: 'prob', dropoutAux: 'prob' });
    this._inChannels = options.inChannels ?? 3;
    this._transformInput = options.transformInput ?? false;
    if (this._transformInput && this._inChannels !== 3) {
      throw new Error(`Kiln: googlenet: transformInput needs inChannels 3, got ${this._inChannels}`);
    }
    const numClasses = options.numClasses ?? 1000;
    this.conv1 = new BasicConv2d(this._inChannels, 64, 7, { stride: 2, padding: 3 });
    this.conv2 = new BasicConv2d(64, 64, 1);
    this.conv3 = new BasicConv2d(64, 192, 3, { padding: 1 });
    this.aux1 = options.auxLogits ? new InceptionAux(512, numClasses, options.dropoutAux ?? 0.7) : null;
    this.aux2 = options.auxLogits ? new InceptionAux(528, numClasses, options.dropoutAux ?? 0.7) : null;
    this.dropout = new Dropout(options.dropout ?? 0.2);
    this.fc = new Linear(1024, numClasses);
    const n01 = (w: Tensor) => { fastNormal_(w, 0.01); };
    initWeights(this, { conv: n01, linear: n01 });
  }

  private trunk(x: Tensor, aux: boolean): { logits: Tensor; aux1: Tensor | null; aux2: Tensor | null } {
    checkImageInput('googlenet', x, this._inChannels, this._minSize);
    if (this._transformInput) {
      const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
      const scale = tensor(std.map((s) => s / 0.5), { dtype: x.dtype }).reshape([1, 3, 1, 1]);
      const shift = tensor(mean.map((m) => (m - 0.5) / 0.5), { dtype: x.dtype }).reshape([1, 3, 1, 1]);
      x = x.mul(scale).add(shift);
    }
    let y = this.maxpool1.forward(this.conv1.forward(x));
    y = this.maxpool2.forward(this.conv3.forward(this.conv2.forward(y)));
    y = this.maxpool3.forward(this.inception3b.forward(this.inception3a.forward(y)));
    y = this.inception4a.forward(y);
    const a1 = aux && this.aux1 ? this.aux1.forward(y) : null;
    y = this.inception4d.forward(this.inception4c.forward(this.inception4b.forward(y)));
    const a2 = aux && this.aux2 ? this.aux2.forward(y) : null;
    y = this.maxpool4.forward(this.inception4e.forward(y));
    y = this.inception5b.forward(this.inception5a.forward(y));
    y = this.dropout.forward(this.avgpool.forward(y).flatten(1));
    return { logits: this.fc.forward(y), aux1: a1, aux2: a2 };
  }

  /** The main classifier's logits (torchvision's eval-mode output). */
  override forward(x: Tensor): Tensor {
    return this.trunk(x, false).logits;
  }

  /** Logits plus the auxiliary heads' logits (null without aux heads or in eval mode), for training. */
  forwardAux(x: Tensor): { logits: Tensor; aux1: Tensor | null; aux2: Tensor | null } {
    return this.trunk(x, this.training);
  }
}

/** GoogLeNet (Inception v1), torchvision layout. */
export const googlenet = (options: GoogLeNetOptions = {}): GoogLeNet => new GoogLeNet(options);
