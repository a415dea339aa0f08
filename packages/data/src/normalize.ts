import { Tensor, tensor } from '@kiln/tensor';

/**
 * Standardises features to zero mean and unit variance. `fit` on the training set only, then
 * `transform` train, dev and test with the same statistics. Per feature (dim 1 of [N, D]) or,
 * for images [N, C, H, W], per channel.
 */
export class Standardizer {
  mean: Float64Array | null = null;
  std: Float64Array | null = null;
  constructor(readonly eps = 1e-8) {
    if (!(typeof eps === 'number' && Number.isFinite(eps) && eps >= 0)) throw new Error(`Kiln: Standardizer: eps must be a finite number >= 0, got ${eps}`);
  }

  private layout(op: string, x: Tensor): { c: number; inner: number; n: number } {
    if (x.shape.length < 2) throw new Error(`Kiln: Standardizer.${op}: expects [N, D] or [N, C, ...], got [${x.shape.join(',')}]`);
    const c = x.shape[1]!;
    const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
    return { c, inner, n: x.shape[0]! };
  }

  fit(x: Tensor): this {
    const { c, inner, n } = this.layout('fit', x);
    const d = x.dataSync();
    const mean = new Float64Array(c), sq = new Float64Array(c);
    for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) {
      const base = (i * c + j) * inner;
      for (let k = 0; k < inner; k++) { const v = d[base + k] as number; mean[j] = mean[j]! + v; sq[j] = sq[j]! + v * v; }
    }
    const count = n * inner;
    this.mean = mean.map((s) => s / count);
    this.std = sq.map((s, j) => Math.sqrt(Math.max(0, s / count - this.mean![j]! ** 2)));
    return this;
  }

  transform(x: Tensor): Tensor {
    if (!this.mean || !this.std) throw new Error('Kiln: Standardizer.transform: call fit(train) first');
    const { c, inner, n } = this.layout('transform', x);
    if (c !== this.mean.length) throw new Error(`Kiln: Standardizer.transform: fitted on ${this.mean.length} features/channels, got ${c}`);
    const d = x.dataSync();
    // float64 data keep their precision (a Float32Array here rounded them to 7 digits under a float64 dtype)
    const out = x.dtype === 'float64' ? new Float64Array(d.length) : new Float32Array(d.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) {
      const base = (i * c + j) * inner, m = this.mean[j]!, s = this.std[j]! + this.eps;
      for (let k = 0; k < inner; k++) out[base + k] = ((d[base + k] as number) - m) / s;
    }
    return tensor(out, { shape: x.shape, dtype: x.dtype === 'float64' ? 'float64' : 'float32' });
  }

  fitTransform(x: Tensor): Tensor { return this.fit(x).transform(x); }
}

/** Fits a Standardizer on `train` and applies it unchanged to the other sets. */
export function normalize(train: Tensor, ...others: Tensor[]): { scaler: Standardizer; train: Tensor; others: Tensor[] } {
  const scaler = new Standardizer().fit(train);
  return { scaler, train: scaler.transform(train), others: others.map((o) => scaler.transform(o)) };
}
