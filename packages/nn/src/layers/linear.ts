import { linear, zeros, Tensor } from '@kiln/tensor';
import { kaimingUniform_, uniform_ } from '../init.js';
import { Module, parameter } from '../module.js';
import { checkInput } from './check.js';
import { checkOptions, FLOAT_DTYPE } from './options.js';

export interface LinearOptions {
  bias?: boolean;
  dtype?: 'float32' | 'float64';
}

/** y = x·Wᵀ + b with W of shape [outFeatures, inFeatures] (PyTorch's layout and default init). */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptions('Linear', options, { bias: 'boolean', dtype: FLOAT_DTYPE });
    if (!(Number.isInteger(inFeatures) && inFeatures > 0 && Number.isInteger(outFeatures) && outFeatures > 0)) {
      throw new Error(`Kiln: Linear: features must be positive integers, got (${inFeatures}, ${outFeatures})`);
    }
    const dtype = options.dtype ?? 'float32';
    this.weight = parameter(zeros([outFeatures, inFeatures], { dtype }));
    this.bias = options.bias === false ? null : parameter(zeros([outFeatures], { dtype }));
    this.resetParameters();
  }

  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) uniform_(this.bias, -1 / Math.sqrt(this.inFeatures), 1 / Math.sqrt(this.inFeatures));
  }

  override forward(x: Tensor): Tensor {
    checkInput('Linear', x, x.ndim >= 1 && x.shape[x.ndim - 1] === this.inFeatures, `last dim ${this.inFeatures} (inFeatures)`);
    // as PyTorch (and Conv*): integer inputs are an error, not silently cast
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`Kiln: Linear: expected a float32 or float64 input, got ${x.dtype} [${x.shape.join(',')}] (cast with .float())`);
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
