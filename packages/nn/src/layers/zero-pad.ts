import { pad, type Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import { checkInput } from './check.js';

/**
 * Zero padding of the last two dims, PyTorch's ZeroPad2d: `padding` is one number for all four
 * sides or `[left, right, top, bottom]`; negative amounts crop.
 */
export class ZeroPad2d extends Module {
  readonly padding: [number, number, number, number];

  constructor(padding: number | readonly number[]) {
    super();
    const p = typeof padding === 'number' ? [padding, padding, padding, padding] : Array.isArray(padding) ? [...padding] : [];
    if (p.length !== 4 || !p.every((v) => Number.isInteger(v))) {
      throw new Error(`Kiln: ZeroPad2d: padding must be an integer or [left, right, top, bottom], got ${JSON.stringify(padding)}`);
    }
    this.padding = p as [number, number, number, number];
  }

  override forward(x: Tensor): Tensor {
    checkInput('ZeroPad2d', x, x.ndim === 3 || x.ndim === 4, '[N, C, H, W] (or [C, H, W])');
    return pad(x, this.padding, 'constant', 0);
  }

  override extraRepr(): string {
    return `(${this.padding.join(', ')})`;
  }
}
