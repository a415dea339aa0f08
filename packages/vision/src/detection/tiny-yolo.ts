/**
 * A small YOLO-style detector for small images: three conv3×3–BatchNorm–ReLU–maxpool stages
 * (stride 8), one more conv3×3 stage, and a 1×1 convolution to B·(5 + C) channels per cell. A
 * 32×32 input gives a 4×4 grid. Keys: `features.{0,1,4,5,8,9,12,13}.*`, `head.{weight,bias}`.
 */
import { BatchNorm2d, Conv2d, MaxPool2d, Module, ReLU, Sequential } from '@kiln/nn';
import { checkOptions, type Tensor } from '@kiln/tensor';

export interface TinyYoloOptions {
  numClasses: number;
  numAnchors: number;
  /** Input channels (default 3). */
  inChannels?: number;
  /** Channels of the first stage; later stages use 2× and 4× (default 8). */
  width?: number;
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
    checkOptions('TinyYolo', options, { numClasses: 'posint', numAnchors: 'posint', inChannels: 'posint', width: 'posint' });
    if (options?.numClasses === undefined || options.numAnchors === undefined) throw new Error('Kiln: TinyYolo: options numClasses and numAnchors are required');
    this.numClasses = options.numClasses;
    this.numAnchors = options.numAnchors;
    const w = options.width ?? 8, cin = options.inChannels ?? 3;
    const stage = (i: number, o: number, pool: boolean): Module[] => [new Conv2d(i, o, 3, { padding: 1, bias: false }), new BatchNorm2d(o), new ReLU(), ...(pool ? [new MaxPool2d(2)] : [])];
    this.features = new Sequential(...stage(cin, w, true), ...stage(w, 2 * w, true), ...stage(2 * w, 4 * w, true), ...stage(4 * w, 4 * w, false));
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
