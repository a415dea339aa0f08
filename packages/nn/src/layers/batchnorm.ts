import { noGrad, ones, tensor, zeros, type Tensor } from '@kiln/tensor';
import { Module, parameter } from '../module.js';
import { checkInput } from './check.js';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running averages (default 0.1); null = cumulative average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
  dtype?: 'float32' | 'float64';
}

/**
 * Batch normalisation over the channel dim 1. Training: normalises with the batch mean and
 * biased variance, and updates running_mean/running_var (the latter with the unbiased batch
 * variance) as r ← (1−momentum)·r + momentum·batch. Eval: uses the running statistics.
 */
abstract class BatchNormBase extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  running_mean: Tensor | null = null;
  running_var: Tensor | null = null;
  num_batches_tracked: Tensor | null = null;
  readonly eps: number;
  readonly momentum: number | null;

  protected abstract readonly layerName: string;
  protected abstract validRanks: readonly number[];

  constructor(readonly numFeatures: number, options: BatchNormOptions = {}) {
    super();
    if (!(Number.isInteger(numFeatures) && numFeatures > 0)) throw new Error(`Kiln: BatchNorm: numFeatures must be a positive integer, got ${numFeatures}`);
    const dtype = options.dtype ?? 'float32';
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    const affine = options.affine ?? true;
    this.weight = affine ? parameter(ones([numFeatures], { dtype })) : null;
    this.bias = affine ? parameter(zeros([numFeatures], { dtype })) : null;
    if (options.trackRunningStats ?? true) {
      this.registerBuffer('running_mean', zeros([numFeatures], { dtype }));
      this.registerBuffer('running_var', ones([numFeatures], { dtype }));
      this.registerBuffer('num_batches_tracked', tensor(0, { dtype: 'int32' }));
    }
  }

  override forward(x: Tensor): Tensor {
    const name = this.layerName;
    checkInput(name, x, this.validRanks.includes(x.ndim) && x.shape[1] === this.numFeatures,
      `${this.validRanks.map((r) => `${r}-d`).join(' or ')} input with ${this.numFeatures} channels in dim 1`);
    const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
    const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
    const useBatch = this.training || !this.running_mean;
    let mean: Tensor;
    let variance: Tensor;
    if (useBatch) {
      const n = x.numel() / this.numFeatures;
      if (this.training && n <= 1) throw new Error(`Kiln: ${name}: expected more than 1 value per channel when training, got input of shape [${x.shape.join(',')}]`);
      mean = x.mean(dims, true);
      variance = x.var(dims, { correction: 0, keepdim: true });
      if (this.training && this.running_mean && this.running_var && this.num_batches_tracked) {
        const rm = this.running_mean, rv = this.running_var, nbt = this.num_batches_tracked;
        noGrad(() => {
          nbt.add_(1);
          const m = this.momentum ?? 1 / nbt.item();
          const bm = mean.detach().reshape([this.numFeatures]);
          const bv = variance.detach().reshape([this.numFeatures]).mul(n / (n - 1));
          rm.mul_(1 - m).add_(bm.mul(m).to(rm.dtype));
          rv.mul_(1 - m).add_(bv.mul(m).to(rv.dtype));
        });
      }
    } else {
      mean = this.running_mean!.reshape(bshape);
      variance = this.running_var!.reshape(bshape);
    }
    let y = x.sub(mean).div(variance.add(this.eps).sqrt());
    if (this.weight) y = y.mul(this.weight.reshape(bshape));
    if (this.bias) y = y.add(this.bias.reshape(bshape));
    return y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/** BatchNorm over [N, C] or [N, C, L] inputs. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly layerName = 'BatchNorm1d';
  protected validRanks = [2, 3] as const;
}

/** BatchNorm over [N, C, H, W] inputs. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly layerName = 'BatchNorm2d';
  protected validRanks = [4] as const;
}

/** BatchNorm over [N, C, D, H, W] inputs (3-D CNNs). */
export class BatchNorm3d extends BatchNormBase {
  protected readonly layerName = 'BatchNorm3d';
  protected validRanks = [5] as const;
}
