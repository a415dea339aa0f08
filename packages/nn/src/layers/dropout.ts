import { dropout, type Generator, type Tensor } from '@kiln/tensor';
import { Module } from '../module.js';

/**
 * Inverted dropout: in training, zeroes each element with probability p and scales the
 * survivors by 1/(1−p) so the expectation is unchanged; the identity in eval mode.
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly generator?: Generator) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Kiln: Dropout: p must be in [0, 1], got ${p}`);
  }

  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.generator ? { generator: this.generator } : {});
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
