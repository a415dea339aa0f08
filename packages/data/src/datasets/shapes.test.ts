import { describe, it, expect } from 'vitest';
import { colorShapes, SHAPE_CLASSES } from '../index.js';

/** Foreground mask of image i (noise 0: every pixel is the background colour, the shape colour or a blend). */
function foreground(x: Float32Array, i: number, s: number): boolean[] {
  const plane = s * s, base = i * 3 * plane;
  const bg = [0, 1, 2].map((c) => x[base + c * plane]!); // pixel (0, 0) is always background
  return Array.from({ length: plane }, (_, p) => Math.hypot(...[0, 1, 2].map((c) => x[base + c * plane + p]! - bg[c]!)) > 0.2);
}

describe('colorShapes', () => {
  it('gives [N, 3, S, S] images in [0, 1] with balanced labels, for 32 and 64 pixels', () => {
    for (const size of [32, 64]) {
      const d = colorShapes(40, { size, seed: 1 });
      expect(d.x.shape).toEqual([40, 3, size, size]);
      expect(d.y.dtype).toBe('int32');
      expect(d.classes).toEqual(SHAPE_CLASSES);
      const counts = [0, 0, 0, 0];
      for (const l of d.y.dataSync()) counts[l]!++;
      expect(counts).toEqual([10, 10, 10, 10]);
      let lo = Infinity, hi = -Infinity;
      for (const v of d.x.dataSync()) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
    }
  });
  it('is reproducible by seed and varies with it', () => {
    const a = colorShapes(4, { seed: 7 }).x.dataSync(), b = colorShapes(4, { seed: 7 }).x.dataSync(), c = colorShapes(4, { seed: 8 }).x.dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
  it('draws the class: how much of its bounding box a shape fills orders circle, square > triangle > star', () => {
    const s = 64, n = 80, d = colorShapes(n, { size: s, seed: 3, noise: 0 });
    const x = d.x.dataSync() as Float32Array, y = d.y.dataSync();
    const fill = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const m = foreground(x, i, s);
      let x0 = s, x1 = -1, y0 = s, y1 = -1, area = 0;
      m.forEach((on, p) => { if (on) { area++; const px = p % s, py = Math.floor(p / s); x0 = Math.min(x0, px); x1 = Math.max(x1, px); y0 = Math.min(y0, py); y1 = Math.max(y1, py); } });
      expect(area).toBeGreaterThan(0.02 * s * s); // a visible shape, not touching the corner
      expect(m[0]).toBe(false);
      // the shape is the brighter colour (HSV value: its largest channel)
      const plane = s * s, lum = (p: number) => Math.max(...[0, 1, 2].map((c) => x[i * 3 * plane + c * plane + p]!));
      const inside = m.findIndex((on, p) => on && m[p - 1] && m[p + 1] && m[p - s] && m[p + s]);
      expect(lum(inside)).toBeGreaterThan(lum(0));
      fill[y[i]!]! += area / ((x1 - x0 + 1) * (y1 - y0 + 1)) / (n / 4);
    }
    const [circle, square, triangle, star] = fill as [number, number, number, number];
    expect(circle).toBeGreaterThan(0.7);
    expect(Math.min(circle, square)).toBeGreaterThan(triangle + 0.1);
    expect(triangle).toBeGreaterThan(star + 0.05);
  });
  it('rejects bad arguments by name', () => {
    expect(() => colorShapes(0)).toThrow(/colorShapes: n must be a positive integer, got 0/);
    expect(() => colorShapes(4, { size: 5 })).toThrow(/colorShapes: option 'size' must be an integer in \[12, 512\], got 5/);
    expect(() => colorShapes(4, { sise: 32 } as never)).toThrow(/colorShapes: unknown option 'sise'/);
    expect(() => colorShapes(4, { noise: Number.NaN })).toThrow(/option 'noise'/);
  });
});
