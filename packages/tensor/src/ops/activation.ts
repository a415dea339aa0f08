/** Composite activations and normalisers, built from primitives (one trace node each when the tracer asks). */
import { kernels } from '../backend.js';
import { floatingOf } from '../dtype.js';
import { normalizeDim, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { composite } from '../trace.js';
import { finish, uninitialized } from './core.js';

type Float = Float32Array | Float64Array;

/** exp(x − max) / Σ exp(x − max) along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxAlong('softmax', x, dim);
}

/** x − logsumexp(x) along `dim`, stable for large |x|. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxAlong('logSoftmax', x, dim);
}

/**
 * Both as one fused kernel per direction (max, exp, sum and normalise in one pass over each
 * line; backward from the output alone), so no intermediate tensor is made. Traced as one
 * `softmax`/`logSoftmax` node (ONNX Softmax/LogSoftmax on `dim`).
 */
function softmaxAlong(op: 'softmax' | 'logSoftmax', x: Tensor, dim: number): Tensor {
  const d = normalizeDim(op, dim, x.ndim);
  return composite(op, [x], { dim: d }, () => {
    const xf = x.to(floatingOf(x.dtype));
    if (xf.numel() === 0) return xf.clone();
    const shape = xf.shape;
    const geometry = { outer: sizeOf(shape.slice(0, d)), n: shape[d]!, inner: sizeOf(shape.slice(d + 1)), log: op === 'logSoftmax' };
    const out = uninitialized(shape, xf.dtype);
    kernels().softmax({ x: xf._data as Float, out: out._data as Float, ...geometry });
    return finish(out, op, [xf], { dim: d }, (g) => {
      const dx = uninitialized(shape, xf.dtype);
      kernels().softmaxBackward({ y: out._data as Float, dy: g._data as Float, dx: dx._data as Float, ...geometry });
      return [dx];
    });
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
