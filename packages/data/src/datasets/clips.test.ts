import { describe, it, expect } from 'vitest';
import { movingShapes, CLIP_CLASSES } from '../index.js';

/** Centroid (x, y) of the bright voxels of one frame. */
function centroid(x: Float32Array, base: number, s: number): [number, number] {
  let sx = 0, sy = 0, m = 0;
  for (let p = 0; p < s * s; p++) if (x[base + p]! > 0.5) { sx += p % s; sy += Math.floor(p / s); m++; }
  return [sx / m, sy / m];
}

describe('movingShapes', () => {
  it('gives [N, 1, T, S, S] clips with balanced labels, reproducible by seed', () => {
    const d = movingShapes(12, { frames: 6, size: 20, seed: 1 });
    expect(d.x.shape).toEqual([12, 1, 6, 20, 20]);
    expect(d.classes).toEqual(CLIP_CLASSES);
    expect(Array.from(d.y.dataSync())).toEqual(Array.from({ length: 12 }, (_, i) => i % 4));
    expect(Array.from(movingShapes(4, { seed: 5 }).x.dataSync())).toEqual(Array.from(movingShapes(4, { seed: 5 }).x.dataSync()));
  });
  it('moves the square right or left and turns the bar the labelled way', () => {
    const T = 8, s = 16, n = 40, d = movingShapes(n, { frames: T, size: s, seed: 2, noise: 0 });
    const x = d.x.dataSync() as Float32Array, y = d.y.dataSync();
    for (let i = 0; i < n; i++) {
      const first = centroid(x, i * T * s * s, s), last = centroid(x, (i * T + T - 1) * s * s, s);
      const dx = last[0] - first[0];
      if (y[i] === 0) expect(dx).toBeGreaterThan(4);
      if (y[i] === 1) expect(dx).toBeLessThan(-4);
      if (y[i]! >= 2) {
        expect(Math.abs(dx)).toBeLessThan(1.5); // the bar turns about a fixed centre
        // orientation from second moments; y points down, so clockwise on screen increases the angle
        const angle = (f: number): number => {
          const base = (i * T + f) * s * s, [cx, cy] = centroid(x, base, s);
          let sxx = 0, syy = 0, sxy = 0;
          for (let p = 0; p < s * s; p++) if (x[base + p]! > 0.5) { const u = (p % s) - cx, v = Math.floor(p / s) - cy; sxx += u * u; syy += v * v; sxy += u * v; }
          return 0.5 * Math.atan2(2 * sxy, sxx - syy);
        };
        let turn = angle(1) - angle(0);
        turn = Math.atan2(Math.sin(2 * turn), Math.cos(2 * turn)) / 2; // orientation is defined mod π
        if (y[i] === 2) expect(turn).toBeGreaterThan(0.1);
        else expect(turn).toBeLessThan(-0.1);
      }
    }
  });
  it('rejects bad arguments by name', () => {
    expect(() => movingShapes(4, { frames: 1 })).toThrow(/movingShapes: option 'frames' must be an integer in \[2, 256\], got 1/);
    expect(() => movingShapes(4, { speed: 2 } as never)).toThrow(/movingShapes: unknown option 'speed'/);
  });
});
