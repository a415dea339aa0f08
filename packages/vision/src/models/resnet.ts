/**
 * ResNet (He et al. 2015) as torchvision builds it: BasicBlock for ResNet-18/34, Bottleneck (the
 * stride on the 3×3 conv, "ResNet v1.5") for ResNet-50. State-dict keys: `conv1.weight`,
 * `bn1.running_mean`, `layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`, `fc.weight`.
 */
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, constant_ } from '@kiln/nn';
import { noGrad, type Tensor } from '@kiln/tensor';
import { initWeights } from './blocks.js';
import { checkImageInput, minInputSize } from './input-check.js';
import { checkOptions, ZOO_SPEC, type ZooOptions } from './options.js';

export interface ResNetOptions extends ZooOptions {
  /** Start each block's last BatchNorm at γ = 0, so every residual branch starts as the identity. */
  zeroInitResidual?: boolean;
  /**
   * Divides every width (stem 64 and stages 64/128/256/512; default 1 = torchvision's). Reduced
   * variants keep the keys and change the shapes — for small data and tests.
   */
  widthDivisor?: number;
}

const conv3x3 = (i: number, o: number, stride = 1) => new Conv2d(i, o, 3, { stride, padding: 1, bias: false });
const conv1x1 = (i: number, o: number, stride = 1) => new Conv2d(i, o, 1, { stride, bias: false });

/** Two 3×3 convs with a shortcut. */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu = new ReLU();
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Module | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: Module | null = null) {
    super();
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
  }

  override forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.bn2.forward(this.conv2.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) as Tensor : x;
    return this.relu.forward(out.add(identity));
  }
}

/** 1×1 reduce → 3×3 (strided) → 1×1 expand (×4), with a shortcut. */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  relu = new ReLU();
  downsample: Module | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: Module | null = null) {
    super();
    this.conv1 = conv1x1(inplanes, planes);
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = conv3x3(planes, planes, stride);
    this.bn2 = new BatchNorm2d(planes);
    this.conv3 = conv1x1(planes, planes * 4);
    this.bn3 = new BatchNorm2d(planes * 4);
    this.downsample = downsample;
  }

  override forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.relu.forward(this.bn2.forward(this.conv2.forward(out)));
    out = this.bn3.forward(this.conv3.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) as Tensor : x;
    return this.relu.forward(out.add(identity));
  }
}

type BlockClass = (typeof BasicBlock | typeof Bottleneck) & { expansion: number };

const STEM = [{ k: 7, s: 2, p: 3 }, { k: 3, s: 2, p: 1 }];

/** The ResNet trunk and head; `block` and `layers` (blocks per stage) pick the depth. */
export class ResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu = new ReLU();
  maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  fc: Linear;
  readonly _inChannels: number;
  readonly _minSize = minInputSize(STEM);
  private _inplanes: number;

  constructor(readonly _name: string, block: BlockClass, layers: readonly number[], options: ResNetOptions = {}) {
    super();
    checkOptions(_name, options, { ...ZOO_SPEC, zeroInitResidual: 'bool', widthDivisor: 'posint' });
    this._inChannels = options.inChannels ?? 3;
    const div = options.widthDivisor ?? 1;
    const [w1, w2, w3, w4] = [64, 128, 256, 512].map((c) => Math.max(1, Math.floor(c / div))) as [number, number, number, number];
    this._inplanes = w1;
    this.conv1 = new Conv2d(this._inChannels, w1, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(w1);
    this.layer1 = this.makeLayer(block, w1, layers[0]!, 1);
    this.layer2 = this.makeLayer(block, w2, layers[1]!, 2);
    this.layer3 = this.makeLayer(block, w3, layers[2]!, 2);
    this.layer4 = this.makeLayer(block, w4, layers[3]!, 2);
    this.fc = new Linear(w4 * block.expansion, options.numClasses ?? 1000);
    initWeights(this, { linear: () => undefined });
    if (options.zeroInitResidual) {
      noGrad(() => {
        for (const m of this.modules()) {
          if (m instanceof Bottleneck && m.bn3.weight) constant_(m.bn3.weight, 0);
          if (m instanceof BasicBlock && m.bn2.weight) constant_(m.bn2.weight, 0);
        }
      });
    }
  }

  private makeLayer(block: BlockClass, planes: number, blocks: number, stride: number): Sequential {
    const out = planes * block.expansion;
    const downsample = stride !== 1 || this._inplanes !== out
      ? new Sequential(conv1x1(this._inplanes, out, stride), new BatchNorm2d(out)) : null;
    const layers: Module[] = [new block(this._inplanes, planes, stride, downsample)];
    this._inplanes = out;
    for (let i = 1; i < blocks; i++) layers.push(new block(this._inplanes, planes));
    return new Sequential(...layers);
  }

  override forward(x: Tensor): Tensor {
    checkImageInput(this._name, x, this._inChannels, this._minSize);
    let y = this.maxpool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x))));
    for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) y = layer.forward(y);
    return this.fc.forward(this.avgpool.forward(y).flatten(1));
  }
}

/** ResNet-18 (BasicBlock ×[2,2,2,2]); 11,689,512 parameters at 1000 classes, like torchvision's. */
export const resnet18 = (options: ResNetOptions = {}): ResNet => new ResNet('resnet18', BasicBlock, [2, 2, 2, 2], options);
/** ResNet-34 (BasicBlock ×[3,4,6,3]). */
export const resnet34 = (options: ResNetOptions = {}): ResNet => new ResNet('resnet34', BasicBlock, [3, 4, 6, 3], options);
/** ResNet-50 (Bottleneck ×[3,4,6,3]). */
export const resnet50 = (options: ResNetOptions = {}): ResNet => new ResNet('resnet50', Bottleneck, [3, 4, 6, 3], options);
