/**
 * A small YOLO-style detector for small images: three stride-2 conv3×3–ReLU stages (stride 8
 * overall: a 32×32 input gives a 4×4 grid), one more conv3×3–ReLU stage, and a 1×1 convolution
 * to B·(5 + C) channels per cell. Stride-2 convolutions instead of conv + max-pool, and no
 * BatchNorm by default: both cost more than they help at this size on a CPU (BatchNorm more
 * than doubles a training step of this net in Kiln today). Keys: `features.{0,2,4,6}.*`
 * (`features.{0,3,6,9}.*` with BatchNorm), `head.{weight,bias}`.
 */
import { BatchNorm2d, Conv2d, Module, ReLU, Sequential } from '@kiln/nn';
import { checkOptions, type Tensor } from '@kiln/tensor';

export interface TinyYoloOptions {
  numClasses: number;
  numAnchors: number;
  /** Input channels (default 3). */
  inChannels?: number;
  /** Channels of the first stage; later stages use 2× and 4× (default 16). */
  width?: number;
  /** BatchNorm after each convolution (default false). */
  batchNorm?: boolean;
}

export class TinyYolo extends Module {
  features: Sequential;
  head: Conv2d;
  readonly numClasses: number;
  readonly numAnchors: number;
  /** Input pixels per grid cell. */
  readonly stride = 8;

  constructor(options: TinyYoloOptions) {
    super();
    checkOptions('TinyYolo', options, { numClasses: 'posint', numAnchors: 'posint', inChannels: 'posint', width: 'posint', batchNorm: 'boolean' });
    if (options?.numClasses === undefined || options.numAnchors === undefined) throw new Error('Kiln: TinyYolo: options numClasses and numAnchors are required');
    this.numClasses = options.numClasses;
    this.numAnchors = options.numAnchors;
    const w = options.width ?? 16, cin = options.inChannels ?? 3, bn = options.batchNorm ?? false;
    const stage = (i: number, o: number, stride: number): Module[] => [
      new Conv2d(i, o, 3, { padding: 1, stride, bias: !bn }), ...(bn ? [new BatchNorm2d(o)] : []), new ReLU(),
    ];
    this.features = new Sequential(...stage(cin, w, 2), ...stage(w, 2 * w, 2), ...stage(2 * w, 4 * w, 2), ...stage(4 * w, 4 * w, 1));
    this.head = new Conv2d(4 * w, this.numAnchors * (5 + this.numClasses), 1);
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[2]! % this.stride !== 0 || x.shape[3]! % this.stride !== 0) {
      throw new Error(`Kiln: TinyYolo: input must be [N, C, H, W] with H and W multiples of ${this.stride}, got [${x.shape.join(', ')}]`);
    }
    return this.head.forward(this.features.forward(x));
  }
}

/** A TinyYolo detector (see TinyYolo). */
export const tinyYolo = (options: TinyYoloOptions): TinyYolo => new TinyYolo(options);
