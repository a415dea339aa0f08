/** A 2-D PCA projection of chosen words as an SVG scatter plot with labels. */
import { writeFileAtomic } from '@kiln/nn';
import { checkOptions } from '@kiln/tensor';
import { pca } from './pca.js';
import { WordVectors } from './word-vectors.js';

export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Group index per word (colours), e.g. countries 0 and capitals 1. */
  groups?: readonly number[];
  /** Draw a line from word 2i to word 2i+1 (pairs such as country → capital). */
  pairLines?: boolean;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** SVG text of the words' unit vectors projected on their first two principal components. */
export function plotWordsSvg(wv: WordVectors, words: readonly string[], options: PlotOptions = {}): { svg: string; points: [number, number][]; explained: [number, number] } {
  const op = 'plotWordsSvg';
  checkOptions(op, options, {
    title: 'string', width: 'posint', height: 'posint', pairLines: 'boolean',
    groups: (v) => (Array.isArray(v) && v.every((g) => Number.isInteger(g) && g >= 0) ? null : 'an array of group indices (integers >= 0)'),
  });
  if (words.length < 3) throw new Error(`Kiln: ${op}: needs at least 3 words, got ${words.length}`);
  const missing = words.filter((w) => !wv.has(w));
  if (missing.length) throw new Error(`Kiln: ${op}: unknown words ${JSON.stringify(missing.slice(0, 10))}`);
  if (options.groups && options.groups.length !== words.length) throw new Error(`Kiln: ${op}: groups has ${options.groups.length} entries for ${words.length} words`);
  const u = wv.unitVectors(), d = wv.dim;
  const rows = words.map((w) => { const i = wv.indexOf(w); return u.subarray(i * d, (i + 1) * d); });
  const res = pca(rows, 2);
  const pts: [number, number][] = words.map((_, i) => [res.projections[i * 2]!, res.projections[i * 2 + 1]!]);
  const W = options.width ?? 800, H = options.height ?? 600, m = 50;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => m + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * m - 80); // room for the labels on the right
  const sy = (y: number) => H - m - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * m);
  const total = wv.words.length ? res.variances.reduce((a, b) => a + b, 0) : 1;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(options.title ?? 'PCA of word vectors')}</text>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle" font-size="12" fill="#555">PC1 (variance ${res.variances[0]!.toFixed(3)})</text>`,
    `<text x="14" y="${H / 2}" font-size="12" fill="#555" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">PC2 (variance ${res.variances[1]!.toFixed(3)})</text>`,
  ];
  if (options.pairLines) {
    for (let i = 0; i + 1 < pts.length; i += 2) {
      out.push(`<line x1="${sx(pts[i]![0]).toFixed(1)}" y1="${sy(pts[i]![1]).toFixed(1)}" x2="${sx(pts[i + 1]![0]).toFixed(1)}" y2="${sy(pts[i + 1]![1]).toFixed(1)}" stroke="#bbb"/>`);
    }
  }
  // Words whose points nearly coincide (e.g. two countries) would print their labels on top of
  // each other: move a label down a line until its approximate box is free.
  const placed: [number, number, number, number][] = [];
  const free = (x: number, y: number, w: number): boolean =>
    placed.every(([px, py, pw]) => x + w <= px || px + pw <= x || y + 14 <= py || py + 14 <= y);
  words.forEach((w, i) => {
    const c = COLOURS[(options.groups?.[i] ?? 0) % COLOURS.length]!;
    const x = sx(pts[i]![0]), y = sy(pts[i]![1]);
    const lw = 7.5 * w.length, lx = x + 6;
    let ly = y - 15;
    for (let tries = 0; tries < 20 && !free(lx, ly, lw); tries++) ly += 14;
    placed.push([lx, ly, lw, 14]);
    out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${c}"/><text x="${lx.toFixed(1)}" y="${(ly + 11).toFixed(1)}" font-size="13" fill="${c}">${esc(w)}</text>`);
  });
  out.push('</svg>');
  return { svg: out.join('\n'), points: pts, explained: [res.variances[0]! / total, res.variances[1]! / total] };
}

/** Writes `plotWordsSvg` to `path` (atomically). */
export async function savePlotSvg(path: string, wv: WordVectors, words: readonly string[], options: PlotOptions = {}): Promise<void> {
  const { svg } = plotWordsSvg(wv, words, options);
  await writeFileAtomic(path, new TextEncoder().encode(svg), 'savePlotSvg');
}
