import { describe, it, expect } from 'vitest';
import { loadMnist, planarFlower, moons, circles, spirals } from '../index.js';

describe('MNIST (bundled)', () => {
  it('loads 10,000 digits in [0, 1] with all ten labels', () => {
    const { images, labels } = loadMnist();
    expect(images.shape).toEqual([10000, 1, 28, 28]);
    expect(labels.shape).toEqual([10000]);
    expect(labels.dtype).toBe('int32');
    const x = images.dataSync();
    let min = Infinity, max = -Infinity, sum = 0;
    for (const v of x) { min = Math.min(min, v); max = Math.max(max, v); sum += v; }
    expect(min).toBe(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
    const mean = sum / x.length;
    expect(mean).toBeGreaterThan(0.08); // MNIST's mean pixel is about 0.13
    expect(mean).toBeLessThan(0.2);
    const counts = new Array(10).fill(0);
    for (const y of labels.dataSync()) counts[y]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(loadMnist({ flat: true }).images.shape).toEqual([10000, 784]);
  });
});

describe('synthetic datasets', () => {
  it.each([
    ['planarFlower', planarFlower(400), 2],
    ['moons', moons(200), 2],
    ['circles', circles(200), 2],
    ['spirals', spirals(300), 3],
  ] as const)('%s has [N, 2] points and balanced labels', (_name, d, k) => {
    expect(d.x.shape[1]).toBe(2);
    expect(d.y.shape[0]).toBe(d.x.shape[0]);
    const counts = new Array(k).fill(0);
    for (const y of d.y.dataSync()) counts[y]++;
    for (const c of counts) expect(c).toBe(d.y.shape[0]! / k);
    for (const v of d.x.dataSync()) expect(Number.isFinite(v)).toBe(true);
  });
  it('is reproducible by seed and varies with it', () => {
    expect(Array.from(moons(50, { seed: 3 }).x.dataSync())).toEqual(Array.from(moons(50, { seed: 3 }).x.dataSync()));
    expect(Array.from(moons(50, { seed: 3 }).x.dataSync())).not.toEqual(Array.from(moons(50, { seed: 4 }).x.dataSync()));
    expect(() => circles(1)).toThrow(/n must be/);
  });
  it('circles: the inner class has the smaller radius', () => {
    const { x, y } = circles(200, { noise: 0 });
    const d = x.dataSync(), l = y.dataSync();
    for (let i = 0; i < 200; i++) expect(Math.hypot(d[2 * i]!, d[2 * i + 1]!)).toBeCloseTo(l[i] === 1 ? 0.5 : 1, 4);
  });
});
