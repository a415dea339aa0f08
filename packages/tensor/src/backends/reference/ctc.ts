/**
 * CTC (connectionist temporal classification), the reference kernels: the forward (alpha) and
 * backward (beta) recursions over the blank-extended label sequence, in log space so that long
 * inputs never underflow. See `CtcArgs` in backend.ts for the layouts.
 *
 * Extended labels: l'_s is the blank for even s and target label (s−1)/2 for odd s, s < 2L+1.
 * alpha_t(s) = lp_t(l'_s) + logsumexp(alpha_{t−1}(s), alpha_{t−1}(s−1), alpha_{t−1}(s−2)), the last
 * term only when l'_s is a label different from l'_{s−2} (a repeated label needs a blank between
 * its two copies). beta is the mirror image, both including the emission at t, so
 * p(l|x) = Σ_s exp(alpha_t(s) + beta_t(s) − lp_t(l'_s)) at every t.
 */
import type { CtcArgs } from '../../backend.js';

const NEG_INF = -Infinity;

function lse2(a: number, b: number): number {
  const m = a > b ? a : b;
  if (m === NEG_INF) return NEG_INF;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

function lse3(a: number, b: number, c: number): number {
  let m = a > b ? a : b;
  if (c > m) m = c;
  if (m === NEG_INF) return NEG_INF;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m) + Math.exp(c - m));
}

/** The extended label l'_s of sample n. */
function extended(a: CtcArgs, n: number, s: number): number {
  return s % 2 === 0 ? a.blank : a.targets[a.targetOffsets[n]! + ((s - 1) >> 1)]!;
}

/** nll[n] = −log p(target_n | x_n) (Infinity when no alignment fits); fills `logAlpha`. */
export function ctcLoss(a: CtcArgs, nll: Float64Array): void {
  const { logProbs: lp, time: T, batch: N, classes: C } = a;
  const S = 2 * a.maxTargetLength + 1;
  a.logAlpha.fill(NEG_INF);
  for (let n = 0; n < N; n++) {
    const L = a.targetLengths[n]!;
    const Tn = a.inputLengths[n]!;
    if (Tn === 0) {
      nll[n] = L === 0 ? 0 : Infinity;
      continue;
    }
    const Sn = 2 * L + 1;
    const lab = new Int32Array(Sn);
    for (let s = 0; s < Sn; s++) lab[s] = extended(a, n, s);
    const alpha = a.logAlpha;
    const base = n * T * S;
    alpha[base] = lp[n * C + a.blank]!;
    if (L > 0) alpha[base + 1] = lp[n * C + lab[1]!]!;
    for (let t = 1; t < Tn; t++) {
      const row = base + t * S;
      const prev = row - S;
      const lpRow = (t * N + n) * C;
      for (let s = 0; s < Sn; s++) {
        const c = lab[s]!;
        const a1 = s > 0 ? alpha[prev + s - 1]! : NEG_INF;
        const a2 = s % 2 === 1 && s > 1 && c !== lab[s - 2] ? alpha[prev + s - 2]! : NEG_INF;
        const m = lse3(alpha[prev + s]!, a1, a2);
        alpha[row + s] = m === NEG_INF ? NEG_INF : m + lp[lpRow + c]!;
      }
    }
    const last = base + (Tn - 1) * S;
    const ll = L > 0 ? lse2(alpha[last + Sn - 1]!, alpha[last + Sn - 2]!) : alpha[last]!;
    nll[n] = -ll;
  }
}

/**
 * grad[t,n,c] = gradNll[n] · ∂nll[n]/∂lp[t,n,c] = −gradNll[n] · Σ_{s: l'_s = c} exp(alpha_t(s) +
 * beta_t(s) + nll[n] − lp[t,n,c]) for t < inputLengths[n] (NaN there when nll[n] is infinite, as in
 * PyTorch); samples with gradNll[n] = 0 are skipped. `grad` comes zeroed.
 */
export function ctcLossBackward(a: CtcArgs, nll: Float64Array, gradNll: Float64Array, grad: Float32Array | Float64Array): void {
  const { logProbs: lp, time: T, batch: N, classes: C } = a;
  const S = 2 * a.maxTargetLength + 1;
  const acc = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const g = gradNll[n]!;
    const Tn = a.inputLengths[n]!;
    if (g === 0 || Tn === 0) continue;
    const nl = nll[n]!;
    if (nl === Infinity) {
      for (let t = 0; t < Tn; t++) grad.fill(NaN, (t * N + n) * C, (t * N + n + 1) * C);
      continue;
    }
    const L = a.targetLengths[n]!;
    const Sn = 2 * L + 1;
    const lab = new Int32Array(Sn);
    for (let s = 0; s < Sn; s++) lab[s] = extended(a, n, s);
    const beta = new Float64Array(Tn * Sn).fill(NEG_INF);
    const lastLp = (Tn - 1) * N * C + n * C;
    beta[(Tn - 1) * Sn + Sn - 1] = lp[lastLp + a.blank]!;
    if (L > 0) beta[(Tn - 1) * Sn + Sn - 2] = lp[lastLp + lab[Sn - 2]!]!;
    for (let t = Tn - 2; t >= 0; t--) {
      const row = t * Sn;
      const next = row + Sn;
      const lpRow = (t * N + n) * C;
      for (let s = 0; s < Sn; s++) {
        const c = lab[s]!;
        const b1 = s + 1 < Sn ? beta[next + s + 1]! : NEG_INF;
        const b2 = s % 2 === 1 && s + 2 < Sn && lab[s + 2] !== c ? beta[next + s + 2]! : NEG_INF;
        const m = lse3(beta[next + s]!, b1, b2);
        beta[row + s] = m === NEG_INF ? NEG_INF : m + lp[lpRow + c]!;
      }
    }
    const alpha = a.logAlpha;
    for (let t = 0; t < Tn; t++) {
      acc.fill(NEG_INF);
      const aRow = n * T * S + t * S;
      for (let s = 0; s < Sn; s++) {
        const c = lab[s]!;
        acc[c] = lse2(acc[c]!, alpha[aRow + s]! + beta[t * Sn + s]!);
      }
      const lpRow = (t * N + n) * C;
      for (let c = 0; c < C; c++) {
        const v = acc[c]!;
        if (v !== NEG_INF) grad[lpRow + c] = -g * Math.exp(v + nl - lp[lpRow + c]!);
      }
    }
  }
}
