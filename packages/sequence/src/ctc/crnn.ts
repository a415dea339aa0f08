/**
 * CRNN: the classic CTC recogniser for text lines — convolutional features over a `[N, 1, H, W]`
 * image, each column of the feature map a time step, a bidirectional GRU or LSTM across the
 * columns, and a linear layer to per-step class scores. `forward` returns log-probabilities
 * `[T, N, C]` (time-major, as ctcLoss and the CTC decoders take them) with T = ⌊⌊W/2⌋/2⌋.
 */
import { BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential } from '@kiln/nn';
import { checkOptions, type Tensor } from '@kiln/tensor';
import { GRU, LSTM } from '../rnn/layers.js';

export interface CRNNOptions {
  /** Image height (at least 4; the two 2×2 poolings leave ⌊⌊height/2⌋/2⌋ rows). */
  height: number;
  /** Output classes, the blank included. */
  numClasses: number;
  /**
   * Channels of the conv blocks (conv 3×3 → BatchNorm → ReLU), one entry per block (default
   * [16, 32, 48]); the first two blocks end in a 2×2 max-pool, later ones keep the resolution.
   */
  channels?: readonly number[];
  /** Hidden size of each direction of the recurrent layer (default 48). */
  hiddenSize?: number;
  /** 'gru' (default) or 'lstm'. */
  cell?: 'gru' | 'lstm';
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
}

export class CRNN extends Module {
  readonly features: Sequential;
  readonly rnn: GRU | LSTM;
  readonly head: Linear;
  readonly height: number;

  constructor(options: CRNNOptions) {
    super();
    checkOptions('CRNN', options, {
      height: 'posint', numClasses: 'posint', hiddenSize: 'posint', numLayers: 'posint', cell: ['gru', 'lstm'],
      channels: (v) => (Array.isArray(v) && v.length >= 2 && v.every((c) => Number.isInteger(c) && c > 0) ? null : 'an array of two or more positive integers'),
    });
    if (options === undefined || options.height === undefined || options.numClasses === undefined) throw new Error('Kiln: CRNN: options height and numClasses are required');
    if (options.height < 4) throw new Error(`Kiln: CRNN: height must be at least 4 (two 2×2 poolings), got ${options.height}`);
    const channels = options.channels ?? [16, 32, 48];
    const hidden = options.hiddenSize ?? 48;
    this.height = options.height;
    const layers: Module[] = [];
    channels.forEach((c, i) => {
      layers.push(new Conv2d(i === 0 ? 1 : channels[i - 1]!, c, 3, { padding: 1 }), new BatchNorm2d(c), new ReLU());
      if (i < 2) layers.push(new MaxPool2d(2));
    });
    this.features = new Sequential(...layers);
    const rnnOptions = { bidirectional: true, numLayers: options.numLayers ?? 1 };
    const inputSize = channels[channels.length - 1]! * Math.floor(Math.floor(options.height / 2) / 2);
    this.rnn = options.cell === 'lstm' ? new LSTM(inputSize, hidden, rnnOptions) : new GRU(inputSize, hidden, rnnOptions);
    this.head = new Linear(2 * hidden, options.numClasses);
  }

  /** Time steps for an input `width` columns wide. */
  outputLength(width: number): number {
    return Math.floor(Math.floor(width / 2) / 2);
  }

  /** `[N, 1, H, W]` images → `[T, N, C]` log-probabilities. */
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== 1 || x.shape[2] !== this.height) {
      throw new Error(`Kiln: CRNN: input must be [N, 1, ${this.height}, W], got [${x.shape.join(',')}]`);
    }
    const f = this.features.forward(x) as Tensor; // [N, channels, ⌊⌊H/2⌋/2⌋, T]
    const [N, C, H, T] = f.shape as [number, number, number, number];
    const seq = f.permute([3, 0, 1, 2]).reshape([T, N, C * H]);
    const [out] = this.rnn.forward(seq) as [Tensor, ...Tensor[]];
    return this.head.forward(out).logSoftmax(2);
  }
}
