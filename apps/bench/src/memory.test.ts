import { describe, expect, it } from 'vitest';
import type { BenchRecord } from './common.js';
import { memoryFigures, parseProcStatus, rssTable } from './memory.js';

describe('parseProcStatus', () => {
  it('reads VmHWM and VmRSS (kB) as MB of 10⁶ bytes', () => {
    const text = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  125000 kB\nVmRSS:\t  100000 kB\nThreads:\t7\n';
    expect(parseProcStatus(text)).toEqual({ peakMB: 128, rssMB: 102.4 });
  });
  it('gives null for fields that are missing (not Linux)', () => {
    expect(parseProcStatus('')).toEqual({ peakMB: null, rssMB: null });
    expect(parseProcStatus('VmRSS:\t 2000 kB\n')).toEqual({ peakMB: null, rssMB: 2.048 });
  });
});

describe('memoryFigures', () => {
  it('gives a peak at least as large as the current resident set, and larger after touching memory', () => {
    const a = memoryFigures();
    expect(a.peakMB).toBeGreaterThan(0);
    if (a.rssMB !== null) expect(a.peakMB).toBeGreaterThanOrEqual(a.rssMB);
    const big = new Float64Array(64 << 20 >> 3).fill(1); // 64 MiB, every page touched
    const b = memoryFigures();
    expect(big[big.length - 1]).toBe(1);
    expect(b.peakMB).toBeGreaterThanOrEqual(a.peakMB);
    expect(b.peakMB).toBeGreaterThan(60);
  });
});

describe('rssTable', () => {
  it('gives each side\'s peak per thread count and Kiln ÷ PyTorch as a size ratio', () => {
    const recs: BenchRecord[] = [
      { anchor: 'kiln-wasm', threads: 1, workload: 'rss', metric: 'MB', value: 120, steps: 10000, rss_start_mb: 60 },
      { anchor: 'torch-openblas', threads: 1, workload: 'rss', metric: 'MB', value: 240, steps: 10000, rss_start_mb: 230 },
      { anchor: 'kiln-wasm', threads: 2, workload: 'rss', metric: 'MB', value: 150, steps: 10000 },
      { anchor: 'torch-openblas', threads: 2, workload: 'rss', error: 'RuntimeError: boom' },
      { anchor: 'kiln-wasm', threads: 1, workload: 'mlp', metric: 'samples/s', value: 1000 },
    ];
    const lines = rssTable(recs)!.split('\n');
    expect(lines[0]).toBe('| threads | steps | Kiln peak MB | PyTorch peak MB | Kiln ÷ PyTorch | Kiln before training MB | PyTorch before training MB |');
    expect(lines[2]).toBe('| 1 | 10000 | 120 | 240 | 0.50× | 60.0 | 230 |');
    expect(lines[3]).toBe('| 2 | 10000 | 150 | failed | — | — | failed |');
    expect(lines.length).toBe(4);
  });
  it('is null without a Kiln RSS record', () => {
    expect(rssTable([{ anchor: 'torch-openblas', threads: 1, workload: 'rss', metric: 'MB', value: 240 }])).toBeNull();
    expect(rssTable([{ anchor: 'kiln-wasm', threads: 1, workload: 'mlp', metric: 'samples/s', value: 1 }])).toBeNull();
  });
});
