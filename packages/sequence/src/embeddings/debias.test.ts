import { describe, expect, it } from 'vitest';
import { Generator } from '@kiln/tensor';
import { WordVectors, biasDirection, equalize, hardDebias, neutralize, pca, plotWordsSvg } from '../index.js';

const D = 6;
const gen = new Generator(5);
const rand = (): number[] => Array.from({ length: D }, () => gen.normal());
// Gender lives mostly along axis 0 (+ = female), with noise, so the PCA has something to find.
const female = (v: number[]): number[] => v.map((x, i) => (i === 0 ? 2 + 0.1 * x : x));
const male = (v: number[]): number[] => v.map((x, i) => (i === 0 ? -2 + 0.1 * x : x));
const pairs: [string, string][] = [['she', 'he'], ['woman', 'man'], ['her', 'his'], ['girl', 'boy'], ['mother', 'father']];
const words: string[] = [], vecs: number[] = [];
for (const [f, m] of pairs) { const base = rand(); words.push(f, m); vecs.push(...female(base), ...male(base)); }
words.push('grandmother', 'grandfather', 'doctor', 'nurse', 'programmer');
vecs.push(...female(rand()), ...male(rand()), ...rand().map((x, i) => (i === 0 ? x - 0.8 : x)), ...rand().map((x, i) => (i === 0 ? x + 0.9 : x)), ...rand());
const wv = new WordVectors(words, vecs, D);

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));

describe('debiasing (Bolukbasi et al.)', () => {
  it('the bias direction is the first PC of the centred pair differences, oriented she − he', () => {
    const { direction: g, explained } = biasDirection(wv, pairs);
    expect(norm(g)).toBeCloseTo(1, 10);
    expect(Math.abs(g[0]!)).toBeGreaterThan(0.95); // the planted axis
    expect(g[0]!).toBeGreaterThan(0);
    expect(explained).toBeGreaterThan(0.5);
    // it is an eigenvector of the offsets' second-moment matrix
    const offs: Float64Array[] = [];
    for (const [a, b] of pairs) {
      const ua = Float64Array.from(wv.vector(a)).map((x, _, arr) => x / norm(arr)), ub = Float64Array.from(wv.vector(b)).map((x, _, arr) => x / norm(arr));
      offs.push(ua.map((x, i) => (x - ub[i]!) / 2), ub.map((x, i) => (x - ua[i]!) / 2));
    }
    const Cg = new Float64Array(D);
    for (const o of offs) { const s = dot(o, g); for (let i = 0; i < D; i++) Cg[i]! += (s * o[i]!) / offs.length; }
    const lambda = dot(Cg, g);
    for (let i = 0; i < D; i++) expect(Cg[i]!).toBeCloseTo(lambda * g[i]!, 8);
    expect(() => biasDirection(wv, [['she', 'zebra']])).toThrow(/Kiln: biasDirection: unknown word "zebra"/);
    expect(() => biasDirection(wv, [])).toThrow(/needs at least one definitional pair/);
  });

  it('neutralize: zero projection on the bias axis, unit norm, rest of the direction kept', () => {
    const { direction: g } = biasDirection(wv, pairs);
    const before = wv.vector('doctor');
    expect(Math.abs(dot(before, g) / norm(before))).toBeGreaterThan(0.1);
    const after = neutralize(before, g);
    expect(Math.abs(dot(after, g))).toBeLessThan(1e-12);
    expect(norm(after)).toBeCloseTo(1, 12);
    // same as the unit vector minus its g part, renormalised
    const u = Array.from(before, (x) => x / norm(before)), p = dot(u, g);
    const r = u.map((x, i) => x - p * g[i]!), nr = norm(r);
    r.forEach((x, i) => expect(after[i]!).toBeCloseTo(x / nr, 12));
  });

  it('equalize: unit norms, opposite projections, identical g-orthogonal parts', () => {
    const { direction: g } = biasDirection(wv, pairs);
    const [a, b] = equalize(wv.vector('grandmother'), wv.vector('grandfather'), g);
    expect(norm(a)).toBeCloseTo(1, 12);
    expect(norm(b)).toBeCloseTo(1, 12);
    expect(dot(a, g)).toBeCloseTo(-dot(b, g), 12);
    expect(dot(a, g)).toBeGreaterThan(0);
    const pa = Array.from(a, (x, i) => x - dot(a, g) * g[i]!), pb = Array.from(b, (x, i) => x - dot(b, g) * g[i]!);
    pa.forEach((x, i) => expect(x).toBeCloseTo(pb[i]!, 12));
    // a neutral word is now equally far from both
    const n = neutralize(wv.vector('nurse'), g);
    expect(dot(n, a)).toBeCloseTo(dot(n, b), 12);
  });

  it('hardDebias applies both to a table; occupations lose their gender projection', () => {
    const { vectors, direction: g } = hardDebias(wv, { definitional: pairs, equalize: [['grandmother', 'grandfather']] });
    for (const w of ['doctor', 'nurse', 'programmer']) expect(Math.abs(dot(vectors.vector(w), g))).toBeLessThan(1e-6);
    const gm = vectors.vector('grandmother'), gf = vectors.vector('grandfather');
    expect(dot(gm, g)).toBeCloseTo(-dot(gf, g), 5);
    expect(vectors.similarity('doctor', 'grandmother')).toBeCloseTo(vectors.similarity('doctor', 'grandfather'), 5);
    expect(wv.similarity('nurse', 'she')).toBeGreaterThan(wv.similarity('nurse', 'he')); // biased before
  });
});

describe('PCA and the SVG plot', () => {
  it('pca finds a planted direction and orders components by variance', () => {
    const g2 = new Generator(9);
    const rows = Array.from({ length: 200 }, () => { const t = g2.normal() * 5; return [t, t, g2.normal() * 0.5, 0.1 * g2.normal()]; });
    const r = pca(rows, 2);
    expect(Math.abs(r.components[0]![0]!)).toBeCloseTo(Math.SQRT1_2, 2);
    expect(r.variances[0]!).toBeGreaterThan(r.variances[1]!);
    expect(Math.abs(dot(r.components[0]!, r.components[1]!))).toBeLessThan(1e-8);
  });

  it('plotWordsSvg draws one labelled point per word, separating the two groups along PC1', () => {
    const ws = ['she', 'woman', 'girl', 'he', 'man', 'boy'];
    const { svg, points } = plotWordsSvg(wv, ws, { title: 'gender <test>', groups: [0, 0, 0, 1, 1, 1] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle/g)!.length).toBe(6);
    expect(svg).toContain('gender &lt;test&gt;');
    const f = points.slice(0, 3).map((p) => p[0]), m = points.slice(3).map((p) => p[0]);
    expect(Math.min(...f) > Math.max(...m) || Math.max(...f) < Math.min(...m)).toBe(true);
    expect(() => plotWordsSvg(wv, ['she', 'he', 'zebra'])).toThrow(/unknown words \["zebra"\]/);
    // misspelt options used to be ignored
    expect(() => plotWordsSvg(wv, ws, { colours: [0, 0, 0, 1, 1, 1] } as never)).toThrow(/^Kiln: plotWordsSvg: unknown option 'colours' \(known: title, width, height, pairLines, groups\)$/);
    expect(() => pca([[1, 2], [3, 4]], 1, { centre: false } as never)).toThrow(/^Kiln: pca: unknown option 'centre' \(known: center, iterations\)$/);
    expect(() => hardDebias(wv, { definitional: pairs, neutralize: ['doctor'] } as never)).toThrow(/^Kiln: hardDebias: unknown option 'neutralize' \(known: definitional, equalize, neutral\)$/);
  });

  it('plotWordsSvg moves the label of a point that coincides with another so the two do not overlap', () => {
    // greece and egypt share a vector: same point, and without the nudge the same label position
    const near = new WordVectors(['greece', 'egypt', 'athens', 'cairo'], [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], 3);
    const { svg } = plotWordsSvg(near, ['greece', 'egypt', 'athens', 'cairo']);
    const labels = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="13"[^>]*>(\w+)</g)].map((m) => ({ x: +m[1]!, y: +m[2]!, w: m[3]! }));
    expect(labels.map((l) => l.w)).toEqual(['greece', 'egypt', 'athens', 'cairo']);
    expect(labels[0]!.x).toBe(labels[1]!.x);
    expect(Math.abs(labels[0]!.y - labels[1]!.y)).toBeGreaterThanOrEqual(14);
  });
});
