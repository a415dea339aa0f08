/**
 * A picture of one trigger-word clip as SVG: the spectrogram on top (time → right, frequency ↑,
 * 16 grey levels, darker = louder), the words below it (trigger in green), and the model's
 * probability per output step with the labelled windows shaded, the threshold dashed and the
 * detections (upward crossings) as red ticks.
 */
import { checkOptions } from '@kiln/tensor';
import { labelWindows, triggerFeatures, type TriggerClip, type TriggerFeatureOptions } from './data.js';
import { detectionSteps } from './metrics.js';

export interface TriggerPlotOptions {
  threshold?: number;
  title?: string;
  /** Width of the plot area in px (default 900). */
  width?: number;
  features?: TriggerFeatureOptions;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The SVG text for `clip` and the model's probabilities `probs` `[Ty]`. */
export function triggerPlotSVG(clip: TriggerClip, probs: ArrayLike<number>, options: TriggerPlotOptions = {}): string {
  checkOptions('triggerPlotSVG', options, { threshold: 'prob', title: 'string', width: 'posint', features: 'object' });
  const ty = probs.length;
  if (ty < 2) throw new Error(`Kiln: triggerPlotSVG: probs must have at least 2 steps, got ${ty}`);
  for (let t = 0; t < ty; t++) {
    if (!Number.isFinite(probs[t]!)) throw new Error(`Kiln: triggerPlotSVG: probs[${t}] is ${probs[t]}`);
  }
  const { threshold = 0.5, width = 900 } = options;
  const f = triggerFeatures(clip, options.features ?? {});
  const left = 50, top = options.title ? 30 : 10, specH = 4 * f.freqs, wordsH = 24, probH = 140;
  const W = left + width + 20, H = top + specH + wordsH + probH + 40;
  const xOfTime = (s: number) => left + (s / clip.duration) * width;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (options.title) parts.push(`<text x="${left}" y="18" font-size="13">${esc(options.title)}</text>`);
  // Spectrogram: columns pooled to ≤ width/2, 16 levels, equal-level runs merged into one rect.
  const cols = Math.min(f.frames, Math.floor(width / 2));
  let lo = Infinity, hi = -Infinity;
  for (const v of f.values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const cw = width / cols, rh = specH / f.freqs;
  for (let k = 0; k < f.freqs; k++) {
    const y = top + specH - (k + 1) * rh;
    let runStart = 0, runLevel = -1;
    const flush = (end: number) => {
      if (runLevel > 0) parts.push(`<rect x="${(left + runStart * cw).toFixed(1)}" y="${y.toFixed(1)}" width="${((end - runStart) * cw + 0.3).toFixed(1)}" height="${(rh + 0.3).toFixed(1)}" fill="rgb(${255 - runLevel * 16},${255 - runLevel * 16},${255 - runLevel * 15})"/>`);
    };
    for (let c = 0; c <= cols; c++) {
      let level = -2;
      if (c < cols) {
        const a = Math.floor((c * f.frames) / cols), b = Math.max(a + 1, Math.floor(((c + 1) * f.frames) / cols));
        let m = -Infinity;
        for (let t = a; t < b; t++) m = Math.max(m, f.values[k * f.frames + t]!);
        level = Math.min(15, Math.floor((16 * (m - lo)) / (hi - lo + 1e-12)));
      }
      if (level !== runLevel) { flush(c); runStart = c; runLevel = level; }
    }
  }
  parts.push(`<text x="${left - 6}" y="${top + 8}" text-anchor="end">${clip.sampleRate / 2} Hz</text>`, `<text x="${left - 6}" y="${top + specH}" text-anchor="end">0</text>`);
  // Words.
  const wy = top + specH + 4;
  for (const e of clip.events) {
    const x0 = xOfTime(e.start), x1 = xOfTime(e.end), color = e.trigger ? '#2a9d3c' : '#8a8a8a';
    parts.push(`<rect x="${x0.toFixed(1)}" y="${wy}" width="${(x1 - x0).toFixed(1)}" height="6" fill="${color}"/>`, `<text x="${((x0 + x1) / 2).toFixed(1)}" y="${wy + 18}" text-anchor="middle" fill="${color}">${esc(e.word)}</text>`);
  }
  // Probabilities.
  const py = top + specH + wordsH + 10, xOfStep = (t: number) => left + ((t + 0.5) / ty) * width, yOf = (p: number) => py + probH - p * probH;
  for (const [a, b] of labelWindows(clip, ty)) {
    parts.push(`<rect x="${(left + (a / ty) * width).toFixed(1)}" y="${py}" width="${(((b - a) / ty) * width).toFixed(1)}" height="${probH}" fill="#d8f0dc"/>`);
  }
  parts.push(`<rect x="${left}" y="${py}" width="${width}" height="${probH}" fill="none" stroke="#999"/>`);
  parts.push(`<line x1="${left}" x2="${left + width}" y1="${yOf(threshold)}" y2="${yOf(threshold)}" stroke="#c33" stroke-dasharray="4 3"/>`);
  const pts = Array.from({ length: ty }, (_, t) => `${xOfStep(t).toFixed(1)},${yOf(Math.min(1, Math.max(0, probs[t]!))).toFixed(1)}`).join(' ');
  parts.push(`<polyline points="${pts}" fill="none" stroke="#1f4e9c" stroke-width="1.5"/>`);
  for (const t of detectionSteps(probs, threshold)) parts.push(`<line x1="${xOfStep(t).toFixed(1)}" x2="${xOfStep(t).toFixed(1)}" y1="${py + probH}" y2="${py + probH + 8}" stroke="#c33" stroke-width="2"/>`);
  parts.push(`<text x="${left - 6}" y="${py + 8}" text-anchor="end">1</text>`, `<text x="${left - 6}" y="${py + probH}" text-anchor="end">0</text>`);
  for (let s = 0; s <= clip.duration; s += 1) parts.push(`<text x="${xOfTime(s).toFixed(1)}" y="${py + probH + 22}" text-anchor="middle">${s} s</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
