import { writeFileAtomic } from '@kiln/nn';
import type { History } from './fit.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A line chart (epochs on x) of the given series, with axes, ticks and a legend, as SVG text. */
export function learningCurvesSvg(series: Record<string, number[]>, title = 'Learning curves'): string {
  const W = 640, H = 400, L = 60, R = 150, T = 40, B = 50;
  const names = Object.keys(series).filter((k) => series[k]!.some(Number.isFinite));
  const all = names.flatMap((k) => series[k]!.filter(Number.isFinite));
  const n = Math.max(1, ...names.map((k) => series[k]!.length));
  const yt = niceTicks(Math.min(0, ...all), Math.max(1e-9, ...all));
  const y0 = yt[0]!, y1 = yt[yt.length - 1]!;
  const xt = niceTicks(1, Math.max(2, n), Math.min(10, n)).filter((t) => Number.isInteger(t) && t >= 1 && t <= Math.max(2, n));
  const px = (e: number) => L + ((e - 1) / Math.max(1, n - 1)) * (W - L - R);
  const py = (v: number) => T + (1 - (v - y0) / (y1 - y0 || 1)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${(W - R + L) / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
  ];
  for (const t of yt) {
    out.push(`<line x1="${L - 5}" y1="${py(t)}" x2="${W - R}" y2="${py(t)}" stroke="#ddd"/>`, `<text x="${L - 8}" y="${py(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of xt) out.push(`<line x1="${px(t)}" y1="${H - B}" x2="${px(t)}" y2="${H - B + 5}" stroke="black"/>`, `<text x="${px(t)}" y="${H - B + 18}" text-anchor="middle">${t}</text>`);
  out.push(`<text x="${(W - R + L) / 2}" y="${H - 10}" text-anchor="middle">epoch</text>`);
  names.forEach((k, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = series[k]!.map((v, e) => (Number.isFinite(v) ? `${px(e + 1).toFixed(1)},${py(v).toFixed(1)}` : '')).filter(Boolean).join(' ');
    out.push(`<polyline class="series" data-name="${esc(k)}" fill="none" stroke="${c}" stroke-width="2" points="${pts}"/>`);
    const ly = T + 10 + i * 20;
    out.push(`<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 40}" y2="${ly}" stroke="${c}" stroke-width="2"/>`, `<text x="${W - R + 45}" y="${ly + 4}">${esc(k)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/**
 * Writes `<prefix>.json` (the history; NaN, e.g. the dev loss when there is no dev set, becomes
 * null) and `<prefix>.svg` (its learning curves), each atomically.
 */
export async function saveLearningCurves(history: History, prefix: string, title?: string): Promise<void> {
  const series: Record<string, number[]> = { 'train loss': history.trainLoss };
  if (history.devLoss.some(Number.isFinite)) series['dev loss'] = history.devLoss;
  for (const [k, v] of Object.entries(history.metrics)) series[k] = v;
  const enc = new TextEncoder();
  await writeFileAtomic(`${prefix}.json`, enc.encode(JSON.stringify(history, null, 2)), 'saveLearningCurves');
  await writeFileAtomic(`${prefix}.svg`, enc.encode(learningCurvesSvg(series, title)), 'saveLearningCurves');
}
