import { batchNorm, noGrad, ones, tensor, zeros, type Tensor } from '@kiln/tensor';
import { Module, parameter } from '../module.js';
import { checkInput } from './check.js';
import { checkOptions, FLOAT_DTYPE } from './options.js';

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
    checkOptions(this.constructor.name, options, {
      eps: 'finite', momentum: (v) => (v === null || (typeof v === 'number' && Number.isFinite(v)) ? null : 'a finite number or null'),
      affine: 'boolean', trackRunningStats: 'boolean', dtype: FLOAT_DTYPE,
    });
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
    const useBatch = this.training || !this.running_mean;
    const n = x.numel() / this.numFeatures;
    if (this.training && n <= 1) throw new Error(`Kiln: ${name}: expected more than 1 value per channel when training, got input of shape [${x.shape.join(',')}]`);
    // Running statistics are updated only while training (in eval without them, the batch's are used as they are).
    const update = this.training && this.running_mean != null && this.running_var != null && this.num_batches_tracked != null;
    let momentum = this.momentum ?? 0;
    if (update) {
      const nbt = this.num_batches_tracked!;
      noGrad(() => nbt.add_(1));
      if (this.momentum === null) momentum = 1 / nbt.item();
    }
    const withStats = update || !useBatch;
    return batchNorm(x, withStats ? this.running_mean : null, withStats ? this.running_var : null,
      this.weight, this.bias, { training: useBatch, momentum, eps: this.eps });
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
