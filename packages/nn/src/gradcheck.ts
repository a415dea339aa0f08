import { gradcheck, Tensor, type GradcheckOptions, type GradcheckResult } from '@kiln/tensor';
import type { Module } from './module.js';

/**
 * Gradient check over a whole model: converts `model` to float64 (in place), then compares
 * autograd's ∂loss/∂θ for every parameter (θ flattened, as in the course) and for the inputs
 * that require grad, against central differences. `lossFn` defaults to summing the output.
 */
export function gradcheckModule(
  model: Module,
  inputs: readonly Tensor[],
  lossFn: (output: Tensor) => Tensor = (y) => y.sum(),
  options: GradcheckOptions = {},
): GradcheckResult {
  model.double();
  const xs = inputs.map((x) => (x.dtype === 'float32' ? x.detach().double().requiresGrad_(x.requiresGrad) : x));
  const params = model.parameters().filter((p) => p.requiresGrad);
  const gradInputs = xs.filter((x) => x.requiresGrad);
  const checked = [...gradInputs, ...params];
  if (!checked.length) throw new Error('Kiln: gradcheckModule: nothing to check (no parameter or input requires grad)');
  return gradcheck(() => lossFn(model.forward(...xs) as Tensor), checked, options);
}
