import { checkOptions } from '@kiln/tensor';
import { writeFileAtomic } from '@kiln/nn';
import type { History } from './fit.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/**
 * About `count` round tick values (steps of 1, 2 or 5 × 10^k) whose first is <= lo and whose last
 * is >= hi, so an axis built on them holds every value (a last tick below the maximum once hid
 * the accuracy line above the chart).
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count), mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))!;
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(6)));
  return ticks;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Options of {@link learningCurvesSvg}. */
export interface CurvesOptions {
  /** Epoch (1-based) to mark with a dashed vertical line, e.g. the one early stopping kept. */
  bestEpoch?: number | null;
}

interface Panel { name: string; label: string; series: string[]; ticks: number[] }

/**
 * Learning curves as SVG text: epochs on x; losses (series whose name contains "loss") in the top
 * panel on their own y axis, every other series (accuracy and other metrics; an axis ending at 1
 * when all their values lie in [0, 1]) in a panel below, each panel with ticks and a legend.
 */
export function learningCurvesSvg(series: Record<string, number[]>, title = 'Learning curves', options: CurvesOptions = {}): string {
  checkOptions('learningCurvesSvg', options, { bestEpoch: (v) => (v === null || (Number.isInteger(v) && (v as number) >= 1) ? null : 'an epoch number (an integer >= 1) or null') });
  const names = Object.keys(series).filter((k) => series[k]!.some(Number.isFinite));
  const values = (ks: string[]) => ks.flatMap((k) => series[k]!.filter(Number.isFinite));
  const losses = names.filter((k) => /loss/i.test(k)), others = names.filter((k) => !/loss/i.test(k));
  const panels: Panel[] = [];
  if (losses.length) {
    const v = values(losses);
    panels.push({ name: 'loss', label: 'loss', series: losses, ticks: niceTicks(Math.min(0, ...v), Math.max(...v)) });
  }
  if (others.length) {
    const v = values(others);
    const unit = v.every((x) => x >= 0 && x <= 1);
    // values in [0, 1] (accuracies): the axis ends at 1 and starts at a round value below the lowest
    panels.push({ name: 'metrics', label: others.length === 1 ? others[0]! : 'metric', series: others, ticks: unit ? niceTicks(Math.min(...v), 1) : niceTicks(Math.min(0, ...v), Math.max(...v)) });
  }
  const W = 640, L = 60, R = 150, T = 40, PH = 230, GAP = 30, B = 45;
  const H = T + Math.max(1, panels.length) * PH + Math.max(0, panels.length - 1) * GAP + B;
  const n = Math.max(1, ...names.map((k) => series[k]!.length));
  const xt = niceTicks(1, Math.max(2, n), Math.min(10, n)).filter((t) => Number.isInteger(t) && t >= 1 && t <= Math.max(2, n));
  const px = (e: number) => L + ((e - 1) / Math.max(1, n - 1)) * (W - L - R);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${(W - R + L) / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  let colour = 0;
  panels.forEach((p, pi) => {
    const top = T + pi * (PH + GAP), bottom = top + PH;
    const y0 = p.ticks[0]!, y1 = p.ticks[p.ticks.length - 1]!;
    const py = (v: number) => top + (1 - (v - y0) / (y1 - y0)) * PH;
    out.push(`<g class="panel" data-name="${p.name}">`,
      `<rect class="plot-area" x="${L}" y="${top}" width="${W - L - R}" height="${PH}" fill="none" stroke="black"/>`,
      `<text transform="translate(16 ${top + PH / 2}) rotate(-90)" text-anchor="middle">${esc(p.label)}</text>`);
    for (const t of p.ticks) {
      out.push(`<line x1="${L - 5}" y1="${py(t)}" x2="${W - R}" y2="${py(t)}" stroke="#ddd"/>`, `<text x="${L - 8}" y="${py(t) + 4}" text-anchor="end">${t}</text>`);
    }
    for (const t of xt) out.push(`<line x1="${px(t)}" y1="${bottom}" x2="${px(t)}" y2="${bottom + 5}" stroke="black"/>`, `<text x="${px(t)}" y="${bottom + 18}" text-anchor="middle">${t}</text>`);
    const best = options.bestEpoch;
    if (best != null && best >= 1 && best <= n) {
      out.push(`<line class="best-epoch" x1="${px(best)}" y1="${top}" x2="${px(best)}" y2="${bottom}" stroke="#888" stroke-dasharray="4 3"/>`);
      if (pi === 0) out.push(`<text x="${px(best) + 4}" y="${top + 12}" fill="#666">best epoch ${best}</text>`);
    }
    p.series.forEach((k, i) => {
      const c = COLORS[colour++ % COLORS.length]!;
      const pts = series[k]!.map((v, e) => (Number.isFinite(v) ? `${px(e + 1).toFixed(1)},${py(v).toFixed(1)}` : '')).filter(Boolean).join(' ');
      out.push(`<polyline class="series" data-name="${esc(k)}" fill="none" stroke="${c}" stroke-width="2" points="${pts}"/>`);
      const ly = top + 10 + i * 20;
      out.push(`<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 40}" y2="${ly}" stroke="${c}" stroke-width="2"/>`, `<text x="${W - R + 45}" y="${ly + 4}">${esc(k)}</text>`);
    });
    out.push('</g>');
  });
  out.push(`<text x="${(W - R + L) / 2}" y="${H - 10}" text-anchor="middle">epoch</text>`, '</svg>');
  return out.join('\n');
}

/**
 * Writes `<prefix>.json` (the history; NaN, e.g. the dev loss when there is no dev set, becomes
 * null) and `<prefix>.svg` (its learning curves, the best epoch marked), each atomically.
 */
export async function saveLearningCurves(history: History, prefix: string, title?: string): Promise<void> {
  const series: Record<string, number[]> = { 'train loss': history.trainLoss };
  if (history.devLoss.some(Number.isFinite)) series['dev loss'] = history.devLoss;
  for (const [k, v] of Object.entries(history.metrics)) series[k] = v;
  const enc = new TextEncoder();
  await writeFileAtomic(`${prefix}.json`, enc.encode(JSON.stringify(history, null, 2)), 'saveLearningCurves');
  await writeFileAtomic(`${prefix}.svg`, enc.encode(learningCurvesSvg(series, title, { bestEpoch: history.bestEpoch })), 'saveLearningCurves');
}
