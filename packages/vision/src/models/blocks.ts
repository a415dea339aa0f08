/**
 * Building blocks shared by several zoo families, laid out like torchvision's so state-dict keys
 * match: `ConvNormActivation` is torchvision's `Conv2dNormActivation` (a Sequential of conv, norm
 * and activation under the keys 0, 1, 2), `makeDivisible` its channel rounding, and the
 * initialisers the ones torchvision's constructors apply.
 */
import {
  BatchNorm2d, Conv2d, Linear as NnLinear, Module, Sequential, constant_, uniform_, zeros_,
} from '@kiln/nn';


/**
 * nn's Linear whose construction draws the weights once from N(0, 0.01) with zero bias — the
 * init torchvision gives VGG's classifier — instead of drawing PyTorch's default init first and
 * overwriting it: VGG's 103M-weight first classifier layer is the bulk of its construction time.
 */
export class SmallNormalLinear extends NnLinear {
  override resetParameters(): void {
    noGrad(() => fastNormal_(this.weight, 0.01));
    if (this.bias) zeros_(this.bias);
  }
}
// prints and summarises as the Linear it is
Object.defineProperty(SmallNormalLinear, 'name', { value: 'Linear' });
import { calculateFans, deferInit } from '@kiln/nn';
import { checkOptions, defaultGenerator, noGrad, type Tensor } from '@kiln/tensor';

/**
 * Fills `t` with N(0, std²) by Marsaglia's polar method on the default generator's 32-bit draws
 * (seeded by manualSeed). Same distribution as nn's normal_, about three times faster: one log and
 * one sqrt per pair of values and no trigonometry — the zoo draws up to 138 M weights.
 */
export function fastNormal_(t: Tensor, std: number): Tensor {
  if (deferInit(t)) return t; // inside withoutInit: no draws, the tensor awaits loaded weights
  const d = t.dataSync();
  const g = defaultGenerator;
  const scale = 2 / 4294967296;
  let i = 0;
  while (i < d.length) {
    const u = g.nextUint32() * scale - 1;
    const v = g.nextUint32() * scale - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const f = std * Math.sqrt((-2 * Math.log(s)) / s);
    d[i++] = u * f;
    if (i < d.length) d[i++] = v * f;
  }
  t.markModified();
  return t;
}

/** torchvision's conv init: kaiming_normal_(mode='fan_out', nonlinearity='relu'), std √2/√fan_out. */
export function kaimingNormalFanOut_(w: Tensor): Tensor {
  return fastNormal_(w, Math.SQRT2 / Math.sqrt(calculateFans(w).fanOut));
}

/**
 * Rounds `v` to a multiple of `divisor` (at least `minValue`, default `divisor`), never going more
 * than 10% below `v` — the rounding of the TensorFlow MobileNet/EfficientNet reference code.
 */
export function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  // a zero divisor or a NaN width would give a NaN channel count, found only when a layer is built from it
  if (!(Number.isFinite(v) && v >= 0)) throw new Error(`Kiln: makeDivisible: v must be a finite number >= 0, got ${String(v)}`);
  if (!(Number.isInteger(divisor) && divisor > 0)) throw new Error(`Kiln: makeDivisible: divisor must be a positive integer, got ${String(divisor)}`);
  if (!(Number.isFinite(minValue) && minValue >= 0)) throw new Error(`Kiln: makeDivisible: minValue must be a finite number >= 0, got ${String(minValue)}`);
  let out = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

export interface ConvNormActivationOptions {
  stride?: number;
  groups?: number;
  /** BatchNorm eps (default 1e-5). */
  eps?: number;
  momentum?: number;
  /** A fresh activation module, or null for none (the linear bottleneck). */
  activation?: (() => Module) | null;
}

/** conv (no bias, 'same'-style padding (k−1)/2) → BatchNorm2d → activation, as a Sequential. */
export class ConvNormActivation extends Sequential {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: ConvNormActivationOptions = {}) {
    checkOptions('ConvNormActivation', options, {
      stride: 'posint', groups: 'posint', eps: 'finite', momentum: 'finite',
      activation: (v) => (v === null || typeof v === 'function' ? null : 'a function returning a Module, or null'),
    });
    const conv = new Conv2d(inChannels, outChannels, kernelSize, {
      stride: options.stride ?? 1, padding: (kernelSize - 1) >> 1, groups: options.groups ?? 1, bias: false,
    });
    const bn = new BatchNorm2d(outChannels, { eps: options.eps ?? 1e-5, momentum: options.momentum ?? 0.1 });
    const act = options.activation === null ? [] : [(options.activation ?? (() => { throw new Error('Kiln: ConvNormActivation: activation is required'); }))()];
    super(conv, bn, ...act);
  }
}

/** Visits every Conv2d / BatchNorm2d / Linear of `model` and applies torchvision-style initialisation. */
export function initWeights(model: Module, rules: {
  conv?: (w: Tensor) => void;
  linear?: (w: Tensor, outFeatures: number) => void;
}): void {
  noGrad(() => {
    for (const m of model.modules()) {
      if (m instanceof Conv2d) {
        (rules.conv ?? kaimingNormalFanOut_)(m.weight);
        if (m.bias) zeros_(m.bias);
      } else if (m instanceof BatchNorm2d) {
        if (m.weight) constant_(m.weight, 1);
        if (m.bias) zeros_(m.bias);
      } else if (m instanceof NnLinear) {
        (rules.linear ?? ((w: Tensor) => fastNormal_(w, 0.01)))(m.weight, m.outFeatures);
        if (m.bias) zeros_(m.bias);
      }
    }
  });
}

/** EfficientNet's classifier init: U(±1/√outFeatures). */
export function uniformByOut(w: Tensor, outFeatures: number): void {
  const r = 1 / Math.sqrt(outFeatures);
  uniform_(w, -r, r);
}
