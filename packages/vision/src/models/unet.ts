/**
 * U-Net (Ronneberger et al. 2015) for semantic segmentation: a contracting path of double 3×3
 * convolutions and 2×2 max pools, an expanding path of 2×2 stride-2 transposed convolutions
 * whose output is concatenated (channel dim) with the encoder's feature map of the same size, and
 * a 1×1 convolution to per-pixel class logits. As in most modern uses (and unlike the paper's
 * unpadded convolutions with cropping), the 3×3 convolutions are padded, so the output logits
 * [N, numClasses, H, W] have the input's size; BatchNorm follows each convolution by default.
 * H and W must be divisible by 2^depth.
 *
 * Keys: `inc.{0,1,3,4}.*` (conv, BN, ReLU, conv, BN, ReLU), `down.{i}.1.*` (after the pool),
 * `up.{i}.up.*` (transposed conv), `up.{i}.conv.*`, `outc.*`.
 */
import { BatchNorm2d, Conv2d, ConvTranspose2d, MaxPool2d, Module, ModuleList, ReLU, Sequential } from '@kiln/nn';
import { cat, type Tensor } from '@kiln/tensor';
import { checkOptions, type OptionKind } from './options.js';

export interface UNetOptions {
  /** Channels of the input images (default 3). */
  inChannels?: number;
  /** Classes per pixel, the output channels (default 2). */
  numClasses?: number;
  /** Number of 2× downsamplings (default 4, as in the paper). */
  depth?: number;
  /** Channels of the first double convolution; each level doubles it (default 64). */
  baseChannels?: number;
  /** BatchNorm after each 3×3 convolution (default true). */
  batchNorm?: boolean;
}

const SPEC: Record<string, OptionKind> = { inChannels: 'posint', numClasses: 'posint', depth: 'posint', baseChannels: 'posint', batchNorm: 'bool' };

function doubleConv(cin: number, cout: number, bn: boolean): Sequential {
  const layers: Module[] = [];
  for (const c of [cin, cout]) {
    layers.push(new Conv2d(c, cout, 3, { padding: 1, bias: !bn }));
    if (bn) layers.push(new BatchNorm2d(cout));
    layers.push(new ReLU());
  }
  return new Sequential(...layers);
}

/** One step of the expanding path: upsample ×2, concatenate the skip, double convolution. */
export class UNetUp extends Module {
  up: ConvTranspose2d;
  conv: Sequential;
  constructor(inChannels: number, outChannels: number, batchNorm: boolean) {
    super();
    this.up = new ConvTranspose2d(inChannels, outChannels, 2, { stride: 2 });
    this.conv = doubleConv(2 * outChannels, outChannels, batchNorm);
  }
  override forward(x: Tensor, skip: Tensor): Tensor {
    return this.conv.forward(cat([skip, this.up.forward(x)], 1));
  }
}

export class UNet extends Module {
  readonly _name = 'unet';
  inc: Sequential;
  down: ModuleList;
  up: ModuleList;
  outc: Conv2d;
  readonly inChannels: number;
  readonly numClasses: number;
  readonly depth: number;

  constructor(options: UNetOptions = {}) {
    super();
    checkOptions('unet', options, SPEC);
    this.inChannels = options.inChannels ?? 3;
    this.numClasses = options.numClasses ?? 2;
    this.depth = options.depth ?? 4;
    const base = options.baseChannels ?? 64, bn = options.batchNorm ?? true;
    if (this.depth > 8) throw new Error(`Kiln: unet: option 'depth' must be at most 8, got ${this.depth}`);
    this.inc = doubleConv(this.inChannels, base, bn);
    const downs: Module[] = [], ups: Module[] = [];
    for (let i = 1; i <= this.depth; i++) downs.push(new Sequential(new MaxPool2d(2), doubleConv(base * 2 ** (i - 1), base * 2 ** i, bn)));
    for (let i = this.depth; i >= 1; i--) ups.push(new UNetUp(base * 2 ** i, base * 2 ** (i - 1), bn));
    this.down = new ModuleList(downs);
    this.up = new ModuleList(ups);
    this.outc = new Conv2d(base, this.numClasses, 1);
  }

  override forward(x: Tensor): Tensor {
    const shape = `[${x.shape.join(',')}]`;
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new Error(`Kiln: unet: expected images [N, ${this.inChannels}, H, W] (inChannels ${this.inChannels}), got input of shape ${shape}`);
    }
    const f = 2 ** this.depth;
    if (x.shape[2]! % f !== 0 || x.shape[3]! % f !== 0) {
      throw new Error(`Kiln: unet: input height and width must be divisible by 2^depth = ${f} (depth ${this.depth}), got input of shape ${shape}`);
    }
    const skips: Tensor[] = [];
    let y = this.inc.forward(x);
    for (const d of this.down) {
      skips.push(y);
      y = d.forward(y) as Tensor;
    }
    for (const u of this.up) y = (u as UNetUp).forward(y, skips.pop()!);
    return this.outc.forward(y);
  }
}

/** U-Net with transposed-conv upsampling and skip concatenation; output logits [N, numClasses, H, W]. */
export const unet = (options: UNetOptions = {}): UNet => new UNet(options);
