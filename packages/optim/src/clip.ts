import { noGrad, type Tensor } from '@kiln/tensor';

/**
 * Scales all gradients together so their joint `normType`-norm is at most maxNorm (in place);
 * returns the norm before clipping. normType may be Infinity.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, normType = 2): number {
  if (!(maxNorm >= 0)) throw new Error(`Kiln: clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new Error(`Kiln: clipGradNorm: normType must be > 0, got ${normType}`);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  let total = 0;
  for (const g of grads) {
    const d = g.dataSync();
    for (let i = 0; i < d.length; i++) {
      const a = Math.abs(d[i]!);
      total = normType === Infinity ? Math.max(total, a) : total + a ** normType;
    }
  }
  if (normType !== Infinity) total = total ** (1 / normType);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) noGrad(() => grads.forEach((g) => g.mul_(coef)));
  return total;
}

/** Clamps every gradient element to [−clipValue, clipValue] (in place). */
export function clipGradValue(params: readonly Tensor[], clipValue: number): void {
  if (!(clipValue >= 0)) throw new Error(`Kiln: clipGradValue: clipValue must be >= 0, got ${clipValue}`);
  noGrad(() => { for (const p of params) p.grad?.clamp_(-clipValue, clipValue); });
}
