import { localResponseNorm, type Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import { checkInput } from './check.js';
import { checkOptions } from './options.js';

export interface LocalResponseNormOptions {
  /** Default 1e-4; divided by `size` as in PyTorch. */
  alpha?: number;
  /** Default 0.75. */
  beta?: number;
  /** Default 1. */
  k?: number;
}

/**
 * Local response normalisation across channels (AlexNet), PyTorch's LocalResponseNorm(size,
 * alpha, beta, k): y = x / (k + alpha/size · Σ x²)^beta over a window of `size` channels.
 */
export class LocalResponseNorm extends Module {
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;

  constructor(readonly size: number, options: LocalResponseNormOptions = {}) {
    super();
    checkOptions('LocalResponseNorm', options, { alpha: 'number', beta: 'number', k: 'number' });
    if (!(Number.isInteger(size) && size > 0)) throw new Error(`Kiln: LocalResponseNorm: size must be a positive integer, got ${size}`);
    this.alpha = options.alpha ?? 1e-4;
    this.beta = options.beta ?? 0.75;
    this.k = options.k ?? 1;
  }

  override forward(x: Tensor): Tensor {
    checkInput('LocalResponseNorm', x, x.ndim >= 3, '[N, C, ...] with at least 3 dims');
    return localResponseNorm(x, this.size, this.alpha, this.beta, this.k);
  }

  override extraRepr(): string {
    return `${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k}`;
  }
}
