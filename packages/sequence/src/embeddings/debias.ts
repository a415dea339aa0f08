/**
 * Hard debiasing (Bolukbasi et al. 2016, "Man is to Computer Programmer as Woman is to
 * Homemaker?"): a bias direction g from definitional pairs, then `neutralize` (remove the g
 * component of gender-neutral words and renormalise) and `equalize` (make each equality pair
 * differ only along g, symmetric about the g-orthogonal subspace, with unit norm). All on unit vectors.
 */
import { checkOptions } from '@kiln/tensor';
import { pca } from './pca.js';
import { WordVectors } from './word-vectors.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!; return s; };
const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a));
const unit = (a: ArrayLike<number>): Float64Array => { const n = norm(a); return Float64Array.from(a, (x) => (n > 0 ? x / n : 0)); };

function unitVector(wv: WordVectors, w: string, op: string): Float64Array {
  if (!wv.has(w)) throw new Error(`Kiln: ${op}: unknown word ${JSON.stringify(w)}`);
  return unit(wv.vector(w));
}

/**
 * The bias direction: the first principal component of the pair members' offsets from their pair
 * means, (a − μ) and (b − μ) for each definitional pair (she, he), (woman, man), …; oriented so
 * that the first words of the pairs project positively. Returns a unit vector and the share of the
 * offsets' variance it explains.
 */
export function biasDirection(wv: WordVectors, pairs: readonly (readonly [string, string])[]): { direction: Float64Array; explained: number } {
  const op = 'biasDirection';
  if (!Array.isArray(pairs) || pairs.length < 1) throw new Error(`Kiln: ${op}: needs at least one definitional pair, got ${JSON.stringify(pairs)}`);
  const offsets: Float64Array[] = [];
  let orient = 0;
  for (const [a, b] of pairs) {
    const va = unitVector(wv, a, op), vb = unitVector(wv, b, op);
    const mu = va.map((x, i) => (x + vb[i]!) / 2);
    offsets.push(va.map((x, i) => x - mu[i]!), vb.map((x, i) => x - mu[i]!));
  }
  const k = Math.min(wv.dim, Math.max(1, Math.min(offsets.length, 3)));
  const res = pca(offsets, k, { center: false });
  const g = res.components[0]!;
  for (let p = 0; p < offsets.length; p += 2) orient += dot(offsets[p]!, g);
  if (orient < 0) for (let i = 0; i < g.length; i++) g[i] = -g[i]!;
  let total = 0;
  for (const o of offsets) total += dot(o, o) / offsets.length;
  return { direction: g, explained: total > 0 ? res.variances[0]! / total : 0 };
}

/** Paper's neutralize: w ← (w − (w·g)g) / ‖w − (w·g)g‖ (w taken at unit length; g unit). */
export function neutralize(w: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
  if (w.length !== g.length) throw new Error(`Kiln: neutralize: word vector has ${w.length} values, bias direction ${g.length}`);
  const u = unit(w), proj = dot(u, g);
  return unit(u.map((x, i) => x - proj * g[i]!));
}

/**
 * Paper's equalize for one pair (a, b) at unit length: μ = (a + b)/2, ν = μ − μ_B; each word
 * becomes ν + √(1 − ‖ν‖²)·(w_B − μ_B)/‖w_B − μ_B‖, where x_B = (x·g)g is the part along g.
 */
export function equalize(a: ArrayLike<number>, b: ArrayLike<number>, g: ArrayLike<number>): [Float64Array, Float64Array] {
  if (a.length !== g.length || b.length !== g.length) throw new Error(`Kiln: equalize: vectors of ${a.length} and ${b.length} values for a bias direction of ${g.length}`);
  const ua = unit(a), ub = unit(b);
  const mu = ua.map((x, i) => (x + ub[i]!) / 2);
  const muB = dot(mu, g);
  const nu = mu.map((x, i) => x - muB * g[i]!);
  const scale = Math.sqrt(Math.max(0, 1 - dot(nu, nu)));
  const one = (u: Float64Array): Float64Array => {
    const off = dot(u, g) - muB; // (w_B − μ_B) = off·g
    if (off === 0) throw new Error('Kiln: equalize: the pair has the same projection on the bias direction; nothing to equalize');
    return nu.map((x, i) => x + scale * Math.sign(off) * g[i]!);
  };
  return [one(ua), one(ub)];
}

export interface HardDebiasOptions {
  /** Pairs defining the bias direction, e.g. [['she', 'he'], ['woman', 'man'], …]. */
  definitional: readonly (readonly [string, string])[];
  /** Pairs to equalize, e.g. [['grandmother', 'grandfather'], …]; words missing from the table are skipped. */
  equalize?: readonly (readonly [string, string])[];
  /** Words to neutralize; default every word not in a definitional or equality pair. */
  neutral?: readonly string[];
}

/** Applies neutralize and equalize to a copy of `wv` (every row unit length afterwards). */
export function hardDebias(wv: WordVectors, options: HardDebiasOptions): { vectors: WordVectors; direction: Float64Array; explained: number } {
  const pairs = (v: unknown) => (Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((w) => typeof w === 'string')) ? null : 'an array of [word, word] pairs');
  checkOptions('hardDebias', options, { definitional: pairs, equalize: pairs, neutral: 'names' });
  if (options?.definitional === undefined) throw new Error('Kiln: hardDebias: options.definitional (the pairs defining the bias direction) is required');
  const { direction: g, explained } = biasDirection(wv, options.definitional);
  const d = wv.dim, out = new Float32Array(wv.vectors.length);
  const u = wv.unitVectors();
  out.set(u);
  const gendered = new Set<string>();
  for (const [a, b] of [...options.definitional, ...(options.equalize ?? [])]) { gendered.add(a); gendered.add(b); }
  const neutral = options.neutral ?? wv.words.filter((w) => !gendered.has(w));
  for (const w of neutral) {
    if (!wv.has(w)) throw new Error(`Kiln: hardDebias: neutral word ${JSON.stringify(w)} is not in the table`);
    const i = wv.indexOf(w);
    const r = u.subarray(i * d, (i + 1) * d);
    if (norm(r) > 0) out.set(neutralize(r, g), i * d);
  }
  for (const [a, b] of options.equalize ?? []) {
    if (!wv.has(a) || !wv.has(b)) continue;
    const ia = wv.indexOf(a), ib = wv.indexOf(b);
    const [ea, eb] = equalize(u.subarray(ia * d, (ia + 1) * d), u.subarray(ib * d, (ib + 1) * d), g);
    out.set(ea, ia * d);
    out.set(eb, ib * d);
  }
  return { vectors: new WordVectors(wv.words, out, d, { unk: wv.unk }), direction: g, explained };
}
