/**
 * Per-channel kernels over `[n, c, s]` (batch, channels, the rest flattened): what batch
 * normalisation needs as single passes instead of a chain of broadcast primitives. Statistics
 * and coefficients are float64; sums run in float64 in (batch, position) order.
 */
type Float = Float32Array | Float64Array;

/**
 * mean[c] and biased variance[c] over the batch and positions of channel c. Sums are taken
 * about the channel's first value (shifted data), so a large mean does not cancel the variance.
 */
export function channelMoments(x: Float, shape: readonly [number, number, number], mean: Float64Array, variance: Float64Array): void {
  const [n, c, s] = shape;
  const m = n * s;
  for (let ch = 0; ch < c; ch++) {
    if (m === 0) {
      mean[ch] = Number.NaN;
      variance[ch] = Number.NaN;
      continue;
    }
    const k = x[ch * s]!;
    let sum = 0;
    let sq = 0;
    for (let b = 0; b < n; b++) {
      const o = (b * c + ch) * s;
      for (let i = o; i < o + s; i++) {
        const d = x[i]! - k;
        sum += d;
        sq += d * d;
      }
    }
    const mu = sum / m;
    mean[ch] = k + mu;
    variance[ch] = Math.max(0, sq / m - mu * mu);
  }
}

/**
 * out = x·a[c] + b[c], plus z·e[c] when `z` is given, computed in float64 and rounded once
 * into `out` (which may alias x or z).
 */
export function channelAffine(
  x: Float, shape: readonly [number, number, number], a: Float64Array, b: Float64Array, out: Float,
  z: Float | null = null, e: Float64Array | null = null,
): void {
  const [n, c, s] = shape;
  for (let bt = 0; bt < n; bt++) {
    for (let ch = 0; ch < c; ch++) {
      const o = (bt * c + ch) * s;
      const ac = a[ch]!;
      const bc = b[ch]!;
      if (z && e) {
        const ec = e[ch]!;
        for (let i = o; i < o + s; i++) out[i] = x[i]! * ac + bc + z[i]! * ec;
      } else {
        for (let i = o; i < o + s; i++) out[i] = x[i]! * ac + bc;
      }
    }
  }
}

/** Per channel: sums[c] = Σ dy and dots[c] = Σ dy·(x − center[c]), over the batch and positions. */
export function channelGradSums(
  dy: Float, x: Float, shape: readonly [number, number, number], center: Float64Array, sums: Float64Array, dots: Float64Array,
): void {
  const [n, c, s] = shape;
  for (let ch = 0; ch < c; ch++) {
    const k = center[ch]!;
    let sum = 0;
    let dot = 0;
    for (let b = 0; b < n; b++) {
      const o = (b * c + ch) * s;
      for (let i = o; i < o + s; i++) {
        const g = dy[i]!;
        sum += g;
        dot += g * (x[i]! - k);
      }
    }
    sums[ch] = sum;
    dots[ch] = dot;
  }
}
