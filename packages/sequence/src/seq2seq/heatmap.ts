/**
 * Attention-weight heatmaps as SVG: one row per output step, one column per input position,
 * darker = more weight (α in [0, 1] on a fixed white → dark-blue scale, so maps compare).
 */
import { Tensor, checkOptions } from '@kiln/tensor';
import { writeFileAtomic } from '@kiln/nn';

export interface HeatmapOptions {
  /** Labels of the rows (output tokens), one per row. */
  rowLabels?: readonly string[];
  /** Labels of the columns (input tokens), one per column. */
  colLabels?: readonly string[];
  title?: string;
  /** Side of a cell in px (default 22). */
  cell?: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Rows of a `[rows, cols]` tensor or array of arrays, checked to be rectangular and finite. */
function rowsOf(weights: Tensor | readonly (readonly number[])[]): number[][] {
  if (weights instanceof Tensor) {
    if (weights.ndim !== 2) throw new Error(`Kiln: attentionHeatmapSVG: weights must be 2-d [outputs, inputs], got shape [${weights.shape.join(',')}]`);
    const d = weights.dataSync(), [r, c] = weights.shape as [number, number];
    return Array.from({ length: r }, (_, i) => Array.from(d.subarray(i * c, (i + 1) * c), Number));
  }
  if (!Array.isArray(weights) || weights.length === 0) throw new Error('Kiln: attentionHeatmapSVG: weights must be a non-empty 2-d array or tensor');
  const c = weights[0]!.length;
  weights.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== c) throw new Error(`Kiln: attentionHeatmapSVG: row ${i} has ${Array.isArray(row) ? row.length : 'no'} entries, row 0 has ${c}`);
  });
  return weights.map((r) => [...r]);
}

/** The SVG text of a heatmap of attention weights `[outputs, inputs]`. */
export function attentionHeatmapSVG(weights: Tensor | readonly (readonly number[])[], options: HeatmapOptions = {}): string {
  checkOptions('attentionHeatmapSVG', options, { rowLabels: 'names', colLabels: 'names', title: 'string', cell: 'posint' });
  const rows = rowsOf(weights);
  const R = rows.length, C = rows[0]!.length, s = options.cell ?? 22;
  const rowLabels = options.rowLabels ?? rows.map((_, i) => String(i));
  const colLabels = options.colLabels ?? rows[0]!.map((_, j) => String(j));
  if (rowLabels.length !== R) throw new Error(`Kiln: attentionHeatmapSVG: ${rowLabels.length} rowLabels for ${R} rows`);
  if (colLabels.length !== C) throw new Error(`Kiln: attentionHeatmapSVG: ${colLabels.length} colLabels for ${C} columns`);
  const left = 60, top = options.title ? 70 : 50;
  const W = left + C * s + 70, H = top + R * s + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="monospace" font-size="${Math.round(s * 0.6)}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (options.title) parts.push(`<text x="${left}" y="18" font-size="14">${esc(options.title)}</text>`);
  colLabels.forEach((l, j) => {
    const x = left + j * s + s / 2, y = top - 6;
    parts.push(`<text x="${x}" y="${y}" text-anchor="start" transform="rotate(-60 ${x} ${y})">${esc(l === ' ' ? '␣' : l)}</text>`);
  });
  rows.forEach((row, i) => {
    const y = top + i * s;
    parts.push(`<text x="${left - 6}" y="${y + s * 0.7}" text-anchor="end">${esc(rowLabels[i]!)}</text>`);
    row.forEach((w, j) => {
      if (!Number.isFinite(w)) throw new Error(`Kiln: attentionHeatmapSVG: weight [${i}, ${j}] is ${w}`);
      const a = Math.min(1, Math.max(0, w));
      const shade = (v: number) => Math.round(255 - a * (255 - v));
      parts.push(`<rect x="${left + j * s}" y="${y}" width="${s}" height="${s}" fill="rgb(${shade(8)},${shade(48)},${shade(107)})"><title>${w.toFixed(3)}</title></rect>`);
    });
  });
  // colour bar: 0 (top) … 1 (bottom) is white … dark blue
  const bx = left + C * s + 20;
  for (let k = 0; k < 10; k++) {
    const a = k / 9, shade = (v: number) => Math.round(255 - a * (255 - v));
    parts.push(`<rect x="${bx}" y="${top + k * 10}" width="12" height="10" fill="rgb(${shade(8)},${shade(48)},${shade(107)})"/>`);
  }
  parts.push(`<text x="${bx + 16}" y="${top + 8}">0</text><text x="${bx + 16}" y="${top + 98}">1</text>`, '</svg>');
  return parts.join('\n');
}

/** Writes the heatmap to `path` atomically (temporary file, then rename). */
export async function saveAttentionHeatmap(path: string, weights: Tensor | readonly (readonly number[])[], options: HeatmapOptions = {}): Promise<void> {
  const svg = attentionHeatmapSVG(weights, options);
  await writeFileAtomic(path, new TextEncoder().encode(svg), 'saveAttentionHeatmap');
}
