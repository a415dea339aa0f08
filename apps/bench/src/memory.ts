// Peak resident memory (issue 10's target: peak RSS of a 10,000-step MLP training run ≤ 1.5×
// PyTorch's). Both sides read the same kernel counters at the end of their run: VmHWM ("high
// water mark", the peak resident set of the whole process: heap, Wasm memory, worker threads,
// loaded libraries) and VmRSS from /proc/self/status; where /proc is missing, the peak from
// getrusage (Node: process.resourceUsage().maxRSS, in KiB on Linux). Pure helpers except
// `memoryFigures`, so the tests can feed them text.
import fs from 'node:fs';
import { fmtNumber, median, TORCH, type BenchRecord } from './common.js';

/** The workload of the peak-RSS comparison (its id for `--only rss`). */
export const RSS_WORKLOAD = 'rss';

/** Default number of MLP training steps of the RSS run (issue 10). */
export const RSS_STEPS = 10_000;

/** Reads `VmHWM` and `VmRSS` (kB, as the kernel writes them) from /proc/PID/status text, in MB (10⁶ bytes). */
export function parseProcStatus(text: string): { peakMB: number | null; rssMB: number | null } {
  const field = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, 'm').exec(text);
    return m ? (Number(m[1]) * 1024) / 1e6 : null;
  };
  return { peakMB: field('VmHWM'), rssMB: field('VmRSS') };
}

/** This process's peak and current resident set in MB; the peak falls back to getrusage's maxRSS. */
export function memoryFigures(): { peakMB: number; rssMB: number | null; source: string } {
  let status = '';
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    // Not Linux: only the getrusage peak below.
  }
  const p = parseProcStatus(status);
  if (p.peakMB !== null) return { peakMB: p.peakMB, rssMB: p.rssMB, source: 'VmHWM' };
  return { peakMB: (process.resourceUsage().maxRSS * 1024) / 1e6, rssMB: null, source: 'maxRSS' };
}

/**
 * The peak-RSS table: one row per thread count with each side's peak (median over its records)
 * in MB, their baseline before training (`rss_start_mb`, for how much the training loop itself
 * adds) and Kiln ÷ PyTorch as a plain size ratio (< 1: Kiln uses less; issue 10 asks ≤ 1.5).
 * Null when there is no RSS record of Kiln.
 */
export function rssTable(records: readonly BenchRecord[]): string | null {
  const rss = records.filter((r) => r.workload === RSS_WORKLOAD);
  const kilnName = rss.find((r) => r.anchor.startsWith('kiln'))?.anchor;
  if (!kilnName) return null;
  const pick = (anchor: string, t: number, key: string): { v: number | null; failed: boolean } => {
    const rs = rss.filter((r) => r.anchor === anchor && r.threads === t);
    const vs = rs.map((r) => r[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    return { v: vs.length ? median(vs) : null, failed: rs.some((r) => r.error !== undefined) };
  };
  const show = (x: { v: number | null; failed: boolean }): string => (x.v !== null ? fmtNumber(x.v) : x.failed ? 'failed' : '—');
  const steps = rss.find((r) => typeof r.steps === 'number')?.steps;
  const head = ['threads', 'steps', 'Kiln peak MB', 'PyTorch peak MB', 'Kiln ÷ PyTorch', 'Kiln before training MB', 'PyTorch before training MB'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const threads = [...new Set(rss.map((r) => r.threads))].sort((x, y) => x - y);
  for (const t of threads) {
    const k = pick(kilnName, t, 'value');
    const p = pick(TORCH, t, 'value');
    const ratio = k.v !== null && p.v !== null ? `${(k.v / p.v).toFixed(2)}×` : '—';
    lines.push(`| ${[t, steps ?? '', show(k), show(p), ratio, show(pick(kilnName, t, 'rss_start_mb')), show(pick(TORCH, t, 'rss_start_mb'))].join(' | ')} |`);
  }
  return lines.join('\n');
}
