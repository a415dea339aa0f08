import { describe, it, expect } from 'vitest';
import { randomSearch } from './index.js';

describe('randomSearch', () => {
  it('samples α on a log scale and β as 1 − 10^r within range', async () => {
    const seen: { lr: number; beta: number }[] = [];
    await randomSearch(
      { lr: { kind: 'log', min: 1e-4, max: 1 }, beta: { kind: 'oneMinusLog', min: 0.9, max: 0.999 } },
      (p) => { seen.push({ lr: p.lr as number, beta: p.beta as number }); return 0; },
      { trials: 400, seed: 1 },
    );
    for (const s of seen) {
      expect(s.lr).toBeGreaterThanOrEqual(1e-4); expect(s.lr).toBeLessThanOrEqual(1);
      expect(s.beta).toBeGreaterThanOrEqual(0.9); expect(s.beta).toBeLessThanOrEqual(0.999);
    }
    // Log-uniform: about a quarter of the samples in each decade.
    const decade = seen.filter((s) => s.lr < 1e-3).length / seen.length;
    expect(decade).toBeGreaterThan(0.17); expect(decade).toBeLessThan(0.33);
    const b = seen.filter((s) => s.beta > 0.99).length / seen.length;
    expect(b).toBeGreaterThan(0.35); expect(b).toBeLessThan(0.65);
  });
  it('refines coarse-to-fine towards the optimum', async () => {
    const obj = (p: Record<string, number | string>) => -((Math.log10(p.lr as number) + 2) ** 2);
    const r = await randomSearch({ lr: { kind: 'log', min: 1e-6, max: 1 } }, obj, { trials: 20, rounds: 2, seed: 2 });
    expect(r.spaces).toHaveLength(3);
    const last = r.spaces[2]!.lr as { min: number; max: number };
    expect(Math.log10(last.max) - Math.log10(last.min)).toBeLessThan(6 / 2);
    expect(last.min).toBeLessThanOrEqual(0.01); expect(last.max).toBeGreaterThanOrEqual(0.01);
    expect(Math.abs(Math.log10(r.best.params.lr as number) + 2)).toBeLessThan(0.2);
    expect(r.trials).toHaveLength(60);
  });
  it('rejects bad ranges', async () => {
    await expect(randomSearch({ lr: { kind: 'log', min: 0, max: 1 } }, () => 0, { trials: 1 })).rejects.toThrow(/positive/);
    await expect(randomSearch({ units: { kind: 'int', min: 0.5, max: 4 } }, () => 0, { trials: 1 })).rejects.toThrow(/^Kiln: randomSearch: int range of 'units' needs integer bounds, got \[0\.5, 4\]$/);
  });
});
