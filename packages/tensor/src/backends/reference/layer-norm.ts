/**
 * Layer normalisation over the last axis of `[rows, n]`, forward and backward: the spec of the
 * fused kernels (PyTorch's `F.layer_norm` with the normalised dims flattened into one).
 *
 * Forward, per row, in float64 and rounded once per output:
 *   mean = Σ x / n,  var = Σ (x − mean)² / n (two passes, so large offsets do not cancel),
 *   rstd = 1/√(var + eps),  y = (x − mean)·rstd·w + b   (w = 1, b = 0 when absent).
 * mean and rstd are stored in x's dtype for the backward, as PyTorch saves them.
 *
 * Backward, per row, with x̂ = (x − mean)·rstd and g = dy·w:
 *   dx = rstd·(g − Σg/n − x̂·Σ(g·x̂)/n)
 * and over all rows, in float64 with the rows in order: dweight = Σ dy·x̂, dbias = Σ dy.
 */
import type { LayerNormArgs, LayerNormBackwardArgs } from '../../backend.js';

export function layerNorm(a: LayerNormArgs): void {
  const { x, weight, bias, out, mean, rstd, rows, n, eps } = a;
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += x[base + j]!;
    const m = s / n;
    let q = 0;
    for (let j = 0; j < n; j++) {
      const d = x[base + j]! - m;
      q += d * d;
    }
    const rs = 1 / Math.sqrt(q / n + eps);
    mean[r] = m;
    rstd[r] = rs;
    for (let j = 0; j < n; j++) {
      let y = (x[base + j]! - m) * rs;
      if (weight) y *= weight[j]!;
      if (bias) y += bias[j]!;
      out[base + j] = y;
    }
  }
}

export function layerNormBackward(a: LayerNormBackwardArgs): void {
  const { x, dy, weight, mean, rstd, dx, dweight, dbias, rows, n } = a;
  const sumW = dweight ? new Float64Array(n) : null;
  const sumB = dbias ? new Float64Array(n) : null;
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const m = mean[r]!;
    const rs = rstd[r]!;
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < n; j++) {
      const xh = (x[base + j]! - m) * rs;
      const d = dy[base + j]!;
      const g = weight ? d * weight[j]! : d;
      sg += g;
      sgx += g * xh;
      if (sumW) sumW[j] = sumW[j]! + d * xh;
      if (sumB) sumB[j] = sumB[j]! + d;
    }
    if (!dx) continue;
    const a0 = sg / n;
    const a1 = sgx / n;
    for (let j = 0; j < n; j++) {
      const xh = (x[base + j]! - m) * rs;
      const g = weight ? dy[base + j]! * weight[j]! : dy[base + j]!;
      dx[base + j] = rs * (g - a0 - xh * a1);
    }
  }
  if (sumW) dweight!.set(sumW);
  if (sumB) dbias!.set(sumB);
}
