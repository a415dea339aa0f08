/**
 * Softmax and log-softmax along one axis, forward and backward: the spec of the fused kernels.
 *
 * The data is viewed as `[outer, n, inner]` with the axis in the middle (inner = 1 for the last
 * axis). Each line of n values is reduced in float64 and every output rounded once:
 *   softmax:     y_i = exp(x_i − m) / Σ_j exp(x_j − m),   m = max_j x_j
 *   logSoftmax:  y_i = (x_i − m) − log Σ_j exp(x_j − m)
 * A line whose maximum is ±Infinity (all −∞: a fully masked attention row) gives NaN, as the
 * unfused formula does in PyTorch.
 *
 * Backward, from the output y and the incoming gradient dy:
 *   softmax:     dx_i = y_i · (dy_i − Σ_j dy_j · y_j)
 *   logSoftmax:  dx_i = dy_i − exp(y_i) · Σ_j dy_j
 */
import type { SoftmaxArgs, SoftmaxBackwardArgs } from '../../backend.js';

export function softmax(a: SoftmaxArgs): void {
  const { x, out, outer, n, inner, log } = a;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        const v = x[base + j * inner]!;
        if (v > m || Number.isNaN(v)) m = v;
        if (Number.isNaN(m)) break;
      }
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(x[base + j * inner]! - m);
      if (log) {
        const ls = Math.log(s);
        for (let j = 0; j < n; j++) out[base + j * inner] = x[base + j * inner]! - m - ls;
      } else {
        for (let j = 0; j < n; j++) out[base + j * inner] = Math.exp(x[base + j * inner]! - m) / s;
      }
    }
  }
}

export function softmaxBackward(a: SoftmaxBackwardArgs): void {
  const { y, dy, dx, outer, n, inner, log } = a;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let s = 0;
      if (log) {
        for (let j = 0; j < n; j++) s += dy[base + j * inner]!;
        for (let j = 0; j < n; j++) dx[base + j * inner] = dy[base + j * inner]! - Math.exp(y[base + j * inner]!) * s;
      } else {
        for (let j = 0; j < n; j++) s += dy[base + j * inner]! * y[base + j * inner]!;
        for (let j = 0; j < n; j++) dx[base + j * inner] = y[base + j * inner]! * (dy[base + j * inner]! - s);
      }
    }
  }
}
