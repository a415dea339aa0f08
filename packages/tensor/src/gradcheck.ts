/**
 * Gradient checking by central differences, for ops, layers and whole models.
 *
 * The function's output is projected onto a fixed random direction w, giving the scalar
 * L = Σ w ⊙ f(θ). Autograd's ∂L/∂θ is compared with (L(θ + ε) − L(θ − ε)) / 2ε for every
 * element of every input, and the check passes when the relative error
 * ‖dθ_approx − dθ‖ / (‖dθ_approx‖ + ‖dθ‖) is below `tolerance` and every element is within
 * `atol + rtol·|dθ_approx|`.
 */
import { noGrad } from './autograd.js';
import { checkOptions } from './options.js';
import { Generator } from './random.js';
import { Tensor } from './tensor.js';

export interface GradcheckOptions {
  /** Step for the central difference (default 1e-6). */
  eps?: number;
  /** Elementwise absolute tolerance (default 1e-5). */
  atol?: number;
  /** Elementwise relative tolerance (default 1e-3). */
  rtol?: number;
  /** Bound on the overall relative error (default 1e-6). */
  tolerance?: number;
  /** Throw with a report instead of returning ok = false (default false). */
  raise?: boolean;
}

export interface GradcheckInputReport {
  index: number;
  name?: string;
  relativeError: number;
  maxAbsError: number;
  /** Flat position of the worst element. */
  worst: number;
}

export interface GradcheckResult {
  ok: boolean;
  relativeError: number;
  inputs: GradcheckInputReport[];
}

/**
 * Checks autograd's gradients of `fn` against central differences. `inputs` must be float64
 * tensors with requiresGrad; they are perturbed in place, so `fn` may also close over them
 * (`gradcheck(() => loss(model(x)), model.parameters())` checks a model's flattened θ).
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckResult {
  checkOptions('gradcheck', options, { eps: 'finite', atol: 'finite', rtol: 'finite', tolerance: 'finite', raise: 'boolean' });
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const tolerance = options.tolerance ?? 1e-6;
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`Kiln: gradcheck: input ${i} is not a Tensor`);
    if (t.dtype !== 'float64') {
      throw new Error(`Kiln: gradcheck: input ${i}${t.name ? ` (${t.name})` : ''} is ${t.dtype}; central differences need float64 (use .double())`);
    }
    if (!t.requiresGrad) throw new Error(`Kiln: gradcheck: input ${i}${t.name ? ` (${t.name})` : ''} does not require grad`);
  });

  const first = fn(...inputs);
  if (!(first instanceof Tensor)) throw new Error('Kiln: gradcheck: fn must return a Tensor');
  const w = new Float64Array(first.numel());
  const gen = new Generator(1234);
  for (let i = 0; i < w.length; i++) w[i] = gen.random() * 2 - 1;
  const project = (out: Tensor): number => {
    const d = out.dataSync();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]! * w[i]!;
    return s;
  };

  // Analytic: backward of f with the direction w as its gradient.
  for (const t of inputs) t.grad = null;
  if (!first.requiresGrad) throw new Error('Kiln: gradcheck: the output does not depend on any input that requires grad');
  first.backward(new Tensor(first.dtype === 'float64' ? w.slice() : Float32Array.from(w), first.shape, first.dtype));
  const analytic = inputs.map((t) => (t.grad ? Float64Array.from(t.grad.dataSync()) : new Float64Array(t.numel())));

  const reports: GradcheckInputReport[] = [];
  let numSq = 0;
  let denA = 0;
  let denB = 0;
  let elementsOk = true;
  inputs.forEach((t, idx) => {
    const data = t.dataSync() as Float64Array;
    const a = analytic[idx]!;
    let diffSq = 0;
    let nA = 0;
    let nB = 0;
    let maxAbs = 0;
    let worst = 0;
    for (let i = 0; i < data.length; i++) {
      const orig = data[i]!;
      data[i] = orig + eps;
      const plus = noGrad(() => project(fn(...inputs)));
      data[i] = orig - eps;
      const minus = noGrad(() => project(fn(...inputs)));
      data[i] = orig;
      const approx = (plus - minus) / (2 * eps);
      const err = Math.abs(approx - a[i]!);
      if (err > atol + rtol * Math.abs(approx)) elementsOk = false;
      if (err > maxAbs) {
        maxAbs = err;
        worst = i;
      }
      diffSq += err * err;
      nA += approx * approx;
      nB += a[i]! * a[i]!;
    }
    const den = Math.sqrt(nA) + Math.sqrt(nB);
    reports.push({ index: idx, name: t.name, relativeError: den === 0 ? 0 : Math.sqrt(diffSq) / den, maxAbsError: maxAbs, worst });
    numSq += diffSq;
    denA += nA;
    denB += nB;
  });
  const den = Math.sqrt(denA) + Math.sqrt(denB);
  const relativeError = den === 0 ? 0 : Math.sqrt(numSq) / den;
  const ok = elementsOk && relativeError <= tolerance;
  for (const t of inputs) t.grad = null;
  const result = { ok, relativeError, inputs: reports };
  if (!ok && options.raise) {
    const lines = reports.map((r) => `  input ${r.index}${r.name ? ` (${r.name})` : ''}: relative error ${r.relativeError.toExponential(2)}, max abs error ${r.maxAbsError.toExponential(2)} at element ${r.worst}`);
    throw new Error(`Kiln: gradcheck failed: relative error ${relativeError.toExponential(2)} (tolerance ${tolerance})\n${lines.join('\n')}`);
  }
  return result;
}
