import { dropoutMask, type Generator, type Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import { checkInput } from './check.js';
import { checkProbability } from './options.js';

/**
 * Channel dropout, PyTorch's Dropout2d: in training, zeroes whole channels of [N, C, H, W]
 * (or unbatched [C, H, W]) with probability p and scales the rest by 1/(1−p); identity in eval.
 */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5, readonly generator?: Generator) {
    super();
    checkProbability('Dropout2d', p);
  }

  override forward(x: Tensor): Tensor {
    checkInput('Dropout2d', x, x.ndim === 3 || x.ndim === 4, '[N, C, H, W] (or [C, H, W])');
    if (!this.training || this.p === 0) return x;
    if (this.p === 1) return x.mul(0);
    const shape = x.shape.map((d, i) => (i < x.ndim - 2 ? d : 1));
    const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
    return x.mul(dropoutMask(shape, this.p, { dtype, ...(this.generator ? { generator: this.generator } : {}) }));
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
