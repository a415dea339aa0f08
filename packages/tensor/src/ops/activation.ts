/** Composite activations and normalisers, built from primitives (one trace node each when the tracer asks). */
import { floatingOf } from '../dtype.js';
import { normalizeDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { composite } from '../trace.js';

/** exp(x − max) / Σ exp(x − max) along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  const d = normalizeDim('softmax', dim, x.ndim);
  return composite('softmax', [x], { dim: d }, () => {
    const xf = x.to(floatingOf(x.dtype));
    if (xf.numel() === 0) return xf.clone();
    const e = xf.sub(xf.max(d, true).detach()).exp();
    return e.div(e.sum(d, true));
  });
}

/** x − logsumexp(x) along `dim`, stable for large |x|. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const d = normalizeDim('logSoftmax', dim, x.ndim);
  return composite('logSoftmax', [x], { dim: d }, () => {
    const xf = x.to(floatingOf(x.dtype));
    if (xf.numel() === 0) return xf.clone();
    return xf.sub(xf.logsumexp(d, true));
  });
}

/** GELU: x·Φ(x) exactly (erf), or the tanh approximation when `approximate` is 'tanh'. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return composite('gelu', [x], { approximate }, () => {
    if (approximate === 'tanh') {
      const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
      return x.mul(0.5).mul(inner.tanh().add(1));
    }
    return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
  });
}
