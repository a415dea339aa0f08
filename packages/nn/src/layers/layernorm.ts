import { layerNorm, ones, zeros, type Tensor } from '@kiln/tensor';
import { Module, parameter } from '../module.js';
import { checkInput } from './check.js';
import { checkOptions, FLOAT_DTYPE } from './options.js';

export interface LayerNormOptions {
  eps?: number;
  elementwiseAffine?: boolean;
  bias?: boolean;
  dtype?: 'float32' | 'float64';
}

/**
 * Normalises over the trailing `normalizedShape` dims with the biased variance, then scales and
 * shifts: @kiln/tensor's fused `layerNorm` op with this layer's parameters.
 */
export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly normalizedShape: readonly number[];
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    checkOptions('LayerNorm', options, { eps: 'finite', elementwiseAffine: 'boolean', bias: 'boolean', dtype: FLOAT_DTYPE });
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : Array.isArray(normalizedShape) ? [...normalizedShape] : [];
    if (!this.normalizedShape.length || !this.normalizedShape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`Kiln: LayerNorm: normalizedShape must be a positive integer or a non-empty array of them, got ${JSON.stringify(normalizedShape)}`);
    }
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? 'float32';
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? parameter(ones(this.normalizedShape, { dtype })) : null;
    this.bias = affine && (options.bias ?? true) ? parameter(zeros(this.normalizedShape, { dtype })) : null;
  }

  override forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.ndim - k);
    checkInput('LayerNorm', x, x.ndim >= k && tail.every((d, i) => d === this.normalizedShape[i]), `trailing dims [${this.normalizedShape.join(',')}]`);
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}
