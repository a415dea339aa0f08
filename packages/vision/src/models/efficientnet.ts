/**
 * EfficientNet (Tan & Le 2019) as torchvision builds it: MBConv blocks (1×1 expansion, k×k
 * depthwise, squeeze-and-excitation, linear 1×1 projection, stochastic depth on the residual),
 * SiLU. `efficientnet(phi)` applies the paper's compound scaling: depth ×α^φ, width ×β^φ,
 * resolution ×γ^φ with α = 1.2, β = 1.1, γ = 1.15; channels are rounded with `makeDivisible(c·w, 8)`
 * and repeats with ⌈n·d⌉, as the reference implementation does. Keys: `features.0.0.weight`,
 * `features.1.0.block.1.fc1.weight`, `classifier.1.weight`. B0: 5,288,548 parameters.
 */
import { AdaptiveAvgPool2d, Conv2d, Dropout, Linear, Module, Sequential, SiLU, StochasticDepth } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import { ConvNormActivation, initWeights, makeDivisible, uniformByOut } from './blocks.js';
import { checkImageInput, minInputSize } from './input-check.js';
import { checkOptions, ZOO_SPEC, type ZooOptions } from './options.js';

export interface EfficientNetOptions extends ZooOptions {
  /** Width multiplier on channels (default from phi: 1.1^φ). */
  widthMult?: number;
  /** Depth multiplier on block repeats (default from phi: 1.2^φ). */
  depthMult?: number;
  /** Dropout before the classifier (default 0.2). */
  dropout?: number;
  /** Largest stochastic-depth drop probability, reached by the last block (default 0.2). */
  stochasticDepthProb?: number;
  /** BatchNorm eps (default 1e-5 like torchvision's B0–B4; its B5–B7 use 1e-3). */
  normEps?: number;
}

/** Squeeze-and-excitation: x · sigmoid(fc2(silu(fc1(mean over H, W)))). Keys `fc1`, `fc2`. */
export class SqueezeExcitation extends Module {
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  fc1: Conv2d;
  fc2: Conv2d;
  activation = new SiLU();
  constructor(inChannels: number, squeezeChannels: number) {
    super();
    this.fc1 = new Conv2d(inChannels, squeezeChannels, 1);
    this.fc2 = new Conv2d(squeezeChannels, inChannels, 1);
  }
  override forward(x: Tensor): Tensor {
    const s = this.fc2.forward(this.activation.forward(this.fc1.forward(this.avgpool.forward(x))));
    return x.mul(s.sigmoid());
  }
}

export interface MBConvConfig {
  expandRatio: number;
  kernel: number;
  stride: number;
  inputChannels: number;
  outChannels: number;
  numLayers: number;
}

const silu = () => new SiLU();

export class MBConv extends Module {
  block: Sequential;
  stochastic_depth: StochasticDepth;
  readonly _useResConnect: boolean;
  constructor(cnf: MBConvConfig, sdProb: number, eps: number) {
    super();
    this._useResConnect = cnf.stride === 1 && cnf.inputChannels === cnf.outChannels;
    const expanded = makeDivisible(cnf.inputChannels * cnf.expandRatio, 8);
    const layers: Module[] = [];
    if (expanded !== cnf.inputChannels) layers.push(new ConvNormActivation(cnf.inputChannels, expanded, 1, { eps, activation: silu }));
    layers.push(
      new ConvNormActivation(expanded, expanded, cnf.kernel, { stride: cnf.stride, groups: expanded, eps, activation: silu }),
      new SqueezeExcitation(expanded, Math.max(1, Math.floor(cnf.inputChannels / 4))),
      new ConvNormActivation(expanded, cnf.outChannels, 1, { eps, activation: null }),
    );
    this.block = new Sequential(...layers);
    this.stochastic_depth = new StochasticDepth(sdProb, 'row');
  }
  override forward(x: Tensor): Tensor {
    const y = this.block.forward(x);
    return this._useResConnect ? this.stochastic_depth.forward(y).add(x) : y;
  }
}

/** B0's stages: expand, kernel, stride, in, out, repeats. */
const B0: readonly (readonly [number, number, number, number, number, number])[] = [
  [1, 3, 1, 32, 16, 1], [6, 3, 2, 16, 24, 2], [6, 5, 2, 24, 40, 2], [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3], [6, 5, 2, 112, 192, 4], [6, 3, 1, 192, 320, 1],
];

export class EfficientNet extends Module {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d([1, 1]);
  classifier: Sequential;
  readonly _inChannels: number;
  readonly _minSize: number;
  /** The input resolution the compound scaling calls for (224·γ^φ, rounded). */
  readonly inputSize: number;

  constructor(readonly _name: string, phi: number, options: EfficientNetOptions = {}) {
    super();
    checkOptions(_name, options, {
      ...ZOO_SPEC, widthMult: 'posnum', depthMult: 'posnum', dropout: 'prob', stochasticDepthProb: 'prob', normEps: 'posnum',
    });
    this._inChannels = options.inChannels ?? 3;
    const width = options.widthMult ?? 1.1 ** phi;
    const depth = options.depthMult ?? 1.2 ** phi;
    this.inputSize = Math.round(224 * 1.15 ** phi);
    const eps = options.normEps ?? 1e-5;
    const sdMax = options.stochasticDepthProb ?? 0.2;
    const cfgs: MBConvConfig[] = B0.map(([expandRatio, kernel, stride, i, o, n]) => ({
      expandRatio, kernel, stride,
      inputChannels: makeDivisible(i * width, 8), outChannels: makeDivisible(o * width, 8), numLayers: Math.ceil(n * depth),
    }));
    const first = cfgs[0]!.inputChannels;
    const layers: Module[] = [new ConvNormActivation(this._inChannels, first, 3, { stride: 2, eps, activation: silu })];
    const chain = [{ k: 3, s: 2, p: 1 }];
    const total = cfgs.reduce((a, c) => a + c.numLayers, 0);
    let id = 0;
    for (const cnf of cfgs) {
      const stage: Module[] = [];
      for (let i = 0; i < cnf.numLayers; i++) {
        const c = i === 0 ? cnf : { ...cnf, inputChannels: cnf.outChannels, stride: 1 };
        if (c.stride > 1) chain.push({ k: c.kernel, s: c.stride, p: (c.kernel - 1) >> 1 });
        stage.push(new MBConv(c, (sdMax * id) / total, eps));
        id++;
      }
      layers.push(new Sequential(...stage));
    }
    const lastIn = cfgs[cfgs.length - 1]!.outChannels;
    layers.push(new ConvNormActivation(lastIn, 4 * lastIn, 1, { eps, activation: silu }));
    this.features = new Sequential(...layers);
    this.classifier = new Sequential(new Dropout(options.dropout ?? 0.2), new Linear(4 * lastIn, options.numClasses ?? 1000));
    this._minSize = minInputSize(chain);
    initWeights(this, { linear: uniformByOut });
  }

  override forward(x: Tensor): Tensor {
    checkImageInput(this._name, x, this._inChannels, this._minSize);
    return this.classifier.forward(this.avgpool.forward(this.features.forward(x)).flatten(1));
  }
}

/** EfficientNet-B0 (torchvision's efficientnet_b0). */
export const efficientnetB0 = (options: EfficientNetOptions = {}): EfficientNet => new EfficientNet('efficientnetB0', 0, options);

/**
 * EfficientNet scaled by the compound coefficient `phi` (depth 1.2^φ, width 1.1^φ, resolution
 * 224·1.15^φ in `model.inputSize`). Note torchvision's B1–B7 use the paper's hand-rounded
 * (width, depth) pairs instead; pass `widthMult`/`depthMult` (and `normEps: 1e-3`, dropout) to
 * reproduce one of those exactly.
 */
export function efficientnet(phi: number, options: EfficientNetOptions = {}): EfficientNet {
  if (!(typeof phi === 'number' && Number.isFinite(phi) && phi >= 0)) {
    throw new Error(`Kiln: efficientnet: phi must be a finite number >= 0, got ${String(phi)}`);
  }
  return new EfficientNet(`efficientnet(${phi})`, phi, options);
}
