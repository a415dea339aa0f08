import type { Tensor } from '@kiln/tensor';

export type Reduction = 'mean' | 'sum' | 'none';

export function reduce(name: string, t: Tensor, reduction: Reduction = 'mean'): Tensor {
  switch (reduction) {
    case 'mean': return t.mean();
    case 'sum': return t.sum();
    case 'none': return t;
    default: throw new Error(`Kiln: ${name}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  }
}

export function sameShape(name: string, input: Tensor, target: Tensor): void {
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`Kiln: ${name}: input shape [${input.shape.join(',')}] and target shape [${target.shape.join(',')}] must match`);
  }
}
