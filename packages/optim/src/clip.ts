import { noGrad, Tensor } from '@kiln/tensor';

/** A Module or a single tensor here (instead of `model.parameters()`) would fail with a bare TypeError. */
function checkParams(fn: string, params: unknown): asserts params is readonly Tensor[] {
  if (!Array.isArray(params)) throw new Error(`Kiln: ${fn}: params must be an array of Tensors (e.g. model.parameters()), got ${params instanceof Tensor ? 'a Tensor' : typeof params === 'object' && params ? (params.constructor?.name ?? 'an object') : String(params)}`);
  params.forEach((p, i) => { if (!(p instanceof Tensor)) throw new Error(`Kiln: ${fn}: params[${i}] must be a Tensor, got ${typeof p}`); });
}

/**
 * Scales all gradients together so their joint `normType`-norm is at most maxNorm (in place);
 * returns the norm before clipping. normType may be Infinity.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, normType = 2): number {
  checkParams('clipGradNorm', params);
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
  checkParams('clipGradValue', params);
  if (!(clipValue >= 0)) throw new Error(`Kiln: clipGradValue: clipValue must be >= 0, got ${clipValue}`);
  noGrad(() => { for (const p of params) p.grad?.clamp_(-clipValue, clipValue); });
}
