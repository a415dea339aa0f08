/**
 * Principal components of a few hundred vectors by power iteration with deflation (enough for a
 * bias direction or a 2-D plot; no LAPACK here).
 */
import { checkOptions } from '@kiln/tensor';

export interface PCAResult {
  /** k unit components of length d, largest variance first. */
  components: Float64Array[];
  /** Variance along each component. */
  variances: number[];
  mean: Float64Array;
  /** Each row projected on the components: n × k, row-major. */
  projections: Float64Array;
}

/** PCA of `n` rows of length `d`; `center` (default true) subtracts the mean first. */
export function pca(rows: readonly ArrayLike<number>[], k: number, options: { center?: boolean; iterations?: number } = {}): PCAResult {
  checkOptions('pca', options, { center: 'boolean', iterations: 'posint' });
  const n = rows.length;
  if (n < 1) throw new Error('Kiln: pca: needs at least one row');
  const d = rows[0]!.length;
  if (!(Number.isInteger(k) && k >= 1 && k <= d)) throw new Error(`Kiln: pca: k must be an integer in 1..${d}, got ${String(k)}`);
  rows.forEach((r, i) => { if (r.length !== d) throw new Error(`Kiln: pca: row ${i} has ${r.length} values, row 0 has ${d}`); });
  const mean = new Float64Array(d);
  if (options.center ?? true) for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  // covariance d × d
  const cov = new Float64Array(d * d);
  for (const r of rows) {
    for (let a = 0; a < d; a++) {
      const x = r[a]! - mean[a]!;
      if (x === 0) continue;
      for (let b = 0; b < d; b++) cov[a * d + b]! += (x * (r[b]! - mean[b]!)) / n;
    }
  }
  const components: Float64Array[] = [], variances: number[] = [];
  const iters = options.iterations ?? 500;
  for (let c = 0; c < k; c++) {
    let v = new Float64Array(d);
    for (let j = 0; j < d; j++) v[j] = 1 + Math.sin(7 * j + 3 * c); // fixed, deterministic start
    let lambda = 0;
    for (let it = 0; it < iters; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) { let s = 0; for (let b = 0; b < d; b++) s += cov[a * d + b]! * v[b]!; w[a] = s; }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let j = 0; j < d; j++) w[j]! /= norm;
      let diff = 0;
      for (let j = 0; j < d; j++) diff = Math.max(diff, Math.abs(w[j]! - v[j]!));
      v = w;
      lambda = norm;
      if (diff < 1e-12) break;
    }
    // deterministic sign: largest-magnitude coordinate positive
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[big]!)) big = j;
    if (v[big]! < 0) for (let j = 0; j < d; j++) v[j] = -v[j]!;
    components.push(v);
    variances.push(lambda);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b]! -= lambda * v[a]! * v[b]!;
  }
  const projections = new Float64Array(n * k);
  rows.forEach((r, i) => components.forEach((v, c) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (r[j]! - mean[j]!) * v[j]!;
    projections[i * k + c] = s;
  }));
  return { components, variances, mean, projections };
}
