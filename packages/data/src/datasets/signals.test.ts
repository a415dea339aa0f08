import { describe, it, expect } from 'vitest';
import { ecgBeats, BEAT_CLASSES } from '../index.js';

describe('ecgBeats', () => {
  it('gives [N, 1, L] finite signals with balanced labels, reproducible by seed', () => {
    const d = ecgBeats(30, { length: 96, seed: 2 });
    expect(d.x.shape).toEqual([30, 1, 96]);
    expect(d.classes).toEqual(BEAT_CLASSES);
    expect(Array.from(d.y.dataSync())).toEqual(Array.from({ length: 30 }, (_, i) => i % 3));
    for (const v of d.x.dataSync()) expect(Number.isFinite(v)).toBe(true);
    expect(Array.from(ecgBeats(6, { seed: 2 }).x.dataSync())).toEqual(Array.from(ecgBeats(6, { seed: 2 }).x.dataSync()));
    expect(Array.from(ecgBeats(6, { seed: 2 }).x.dataSync())).not.toEqual(Array.from(ecgBeats(6, { seed: 3 }).x.dataSync()));
  });
  it('has the morphology of its class: PVC peaks taller, ST elevation raises the samples after the R peak', () => {
    const len = 128, n = 300, d = ecgBeats(n, { length: len, seed: 4, noise: 0 });
    const x = d.x.dataSync(), y = d.y.dataSync();
    const peak = [0, 0, 0], st = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const row = Array.from(x.subarray(i * len, (i + 1) * len));
      const r = row.indexOf(Math.max(...row));
      // mean of the 0.08–0.16 s after the R peak, relative to the mean of the 0.3–0.1 s before it
      const after = row.slice(r + 10, r + 20), before = row.slice(Math.max(0, r - 38), r - 13);
      peak[y[i]!]! += row[r]! / (n / 3);
      st[y[i]!]! += (after.reduce((a, b) => a + b, 0) / after.length - before.reduce((a, b) => a + b, 0) / before.length) / (n / 3);
    }
    expect(peak[1]!).toBeGreaterThan(peak[0]! + 0.3);
    expect(st[2]!).toBeGreaterThan(st[0]! + 0.1);
  });
  it('rejects bad arguments by name', () => {
    expect(() => ecgBeats(2.5)).toThrow(/ecgBeats: n must be a positive integer, got 2.5/);
    expect(() => ecgBeats(3, { length: 8 })).toThrow(/ecgBeats: option 'length' must be an integer in \[16, 65536\], got 8/);
    expect(() => ecgBeats(3, { rate: 1 } as never)).toThrow(/unknown option 'rate'/);
  });
});
