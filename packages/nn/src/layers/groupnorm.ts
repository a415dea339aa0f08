import { groupNorm, ones, zeros, type Tensor } from '@kiln/tensor';
import { Module, parameter } from '../module.js';
import { checkInput } from './check.js';
import { checkOptions } from './options.js';

export interface GroupNormOptions {
  eps?: number;
  /** Per-channel weight (ones) and bias (zeros) when true (default). */
  affine?: boolean;
  dtype?: 'float32' | 'float64';
}

/**
 * Group normalisation (Wu & He 2018), PyTorch's GroupNorm(numGroups, numChannels): each
 * sample's channels split into groups normalised by their own mean and biased variance, then an
 * affine map per channel. Same in training and eval; state dict `weight`, `bias` of shape [C].
 */
export class GroupNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly eps: number;

  constructor(readonly numGroups: number, readonly numChannels: number, options: GroupNormOptions = {}) {
    super();
    checkOptions('GroupNorm', options, { eps: 'number', affine: 'boolean', dtype: 'string' });
    const pos = (v: number) => Number.isInteger(v) && v > 0;
    if (!pos(numGroups) || !pos(numChannels) || numChannels % numGroups !== 0) {
      throw new Error(`Kiln: GroupNorm: numChannels ${numChannels} must be a positive multiple of numGroups ${numGroups}`);
    }
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`Kiln: GroupNorm: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
    const affine = options.affine ?? true;
    this.weight = affine ? parameter(ones([numChannels], { dtype })) : null;
    this.bias = affine ? parameter(zeros([numChannels], { dtype })) : null;
  }

  override forward(x: Tensor): Tensor {
    checkInput('GroupNorm', x, x.ndim >= 2 && x.shape[1] === this.numChannels, `[N, ${this.numChannels}, ...] (${this.numChannels} channels in dim 1)`);
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.weight !== null}`;
  }
}
