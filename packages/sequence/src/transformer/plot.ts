/**
 * Attention heads side by side: one heatmap per head (rows: output positions, columns: input
 * positions), each drawn by `attentionHeatmapSVG`, laid out in a grid in one SVG.
 */
import { Tensor, checkOptions } from '@kiln/tensor';
import { writeFileAtomic } from '@kiln/nn';
import { attentionHeatmapSVG } from '../seq2seq/heatmap.js';

export interface HeadsPlotOptions {
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  title?: string;
  /** Heads per row of the grid (default 2). */
  columns?: number;
  cell?: number;
}

/** SVG text of the heads of `weights` [H, L, S] (one example's per-head attention weights). */
export function attentionHeadsSVG(weights: Tensor, options: HeadsPlotOptions = {}): string {
  checkOptions('attentionHeadsSVG', options, { rowLabels: 'names', colLabels: 'names', title: 'string', columns: 'posint', cell: 'posint' });
  if (!(weights instanceof Tensor) || weights.ndim !== 3) {
    throw new Error(`Kiln: attentionHeadsSVG: weights must be a [heads, outputs, inputs] tensor, got ${weights instanceof Tensor ? `[${weights.shape.join(',')}]` : typeof weights}`);
  }
  const [H] = weights.shape as [number, number, number];
  const cols = Math.min(options.columns ?? 2, H);
  const panels = Array.from({ length: H }, (_, h) => attentionHeatmapSVG(weights.slice(0, h, h + 1).squeeze(0), {
    title: `head ${h}`, ...(options.rowLabels ? { rowLabels: options.rowLabels } : {}), ...(options.colLabels ? { colLabels: options.colLabels } : {}), ...(options.cell ? { cell: options.cell } : {}),
  }));
  const size = (svg: string): [number, number] => {
    const m = /width="(\d+)" height="(\d+)"/.exec(svg)!;
    return [Number(m[1]), Number(m[2])];
  };
  const [w, h] = size(panels[0]!);
  const top = options.title ? 30 : 0;
  const W = cols * w, Ht = top + Math.ceil(H / cols) * h;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Ht}" viewBox="0 0 ${W} ${Ht}">`, `<rect width="${W}" height="${Ht}" fill="white"/>`];
  if (options.title) parts.push(`<text x="10" y="20" font-family="sans-serif" font-size="16">${options.title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`);
  panels.forEach((p, i) => {
    const x = (i % cols) * w, y = top + Math.floor(i / cols) * h;
    parts.push(p.replace('<svg ', `<svg x="${x}" y="${y}" `));
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes `attentionHeadsSVG` to `path` atomically. */
export async function saveAttentionHeads(path: string, weights: Tensor, options: HeadsPlotOptions = {}): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(attentionHeadsSVG(weights, options)), 'saveAttentionHeads');
}
