/**
 * Stochastic depth (Huang et al. 2016), as torchvision.ops.stochastic_depth: in training, drops
 * a residual branch's output with probability p — per sample ('row') or for the whole batch
 * ('batch') — and scales survivors by 1/(1−p); the identity in eval or when p = 0.
 */
import { checkOptions, dropoutMask, Generator, type Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import { checkProbability } from './options.js';

export type StochasticDepthMode = 'row' | 'batch';

export interface StochasticDepthOptions {
  generator?: Generator;
}

function checkMode(layer: string, mode: unknown): asserts mode is StochasticDepthMode {
  if (mode !== 'row' && mode !== 'batch') throw new Error(`Kiln: ${layer}: mode must be 'row' or 'batch', got ${JSON.stringify(mode)}`);
}

/**
 * torchvision's stochastic_depth(input, p, mode, training): `input` is `[N, ...]`; 'row' draws
 * one keep/drop per sample, 'batch' one for all. p = 1 zeroes the input.
 */
export function stochasticDepth(input: Tensor, p: number, mode: StochasticDepthMode, training = true, options: StochasticDepthOptions = {}): Tensor {
  checkProbability('stochasticDepth', p);
  checkMode('stochasticDepth', mode);
  checkOptions('stochasticDepth', options, { generator: (v) => (v instanceof Generator ? null : 'a Generator') });
  if (!training || p === 0) return input;
  if (input.ndim < 1) throw new Error(`Kiln: stochasticDepth: expected an input with a batch dim, got shape [${input.shape.join(',')}]`);
  if (p === 1) return input.mul(0);
  const shape = input.shape.map((d, i) => (i === 0 && mode === 'row' ? d : 1));
  const dtype = input.dtype === 'float64' ? 'float64' : 'float32';
  return input.mul(dropoutMask(shape, p, { dtype, ...(options.generator ? { generator: options.generator } : {}) }));
}

/** The module form, torchvision.ops.StochasticDepth(p, mode); active only in training mode. */
export class StochasticDepth extends Module {
  constructor(readonly p: number, readonly mode: StochasticDepthMode, readonly generator?: Generator) {
    super();
    checkProbability('StochasticDepth', p);
    checkMode('StochasticDepth', mode);
  }

  override forward(x: Tensor): Tensor {
    return stochasticDepth(x, this.p, this.mode, this.training, this.generator ? { generator: this.generator } : {});
  }

  override extraRepr(): string {
    return `p=${this.p}, mode=${this.mode}`;
  }
}
