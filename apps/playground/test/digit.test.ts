/** The MNIST-style normalisation of drawings (src/digit.ts), in Node. */
import { describe, expect, it } from 'vitest';
import { greyFromRgba, softmax, toMnist32 } from '../src/digit.js';

function canvas(w: number, h: number, ink: (x: number, y: number) => boolean): Float32Array {
  const g = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) g[y * w + x] = ink(x, y) ? 1 : 0;
  return g;
}

describe('toMnist32', () => {
  it('an empty pad gives null', () => {
    expect(toMnist32(new Float32Array(100 * 100), 100, 100)).toBeNull();
  });

  it('an off-centre block is scaled to 20 px on its longer side, centred by mass and padded to 32×32', () => {
    // a 40×80 block in the top-left corner of a 200×200 pad
    const out = toMnist32(canvas(200, 200, (x, y) => x >= 10 && x < 50 && y >= 5 && y < 85), 200, 200)!;
    expect(out).toHaveLength(1024);
    let m = 0, cx = 0, cy = 0;
    const rows = new Set<number>(), cols = new Set<number>();
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
      const v = out[y * 32 + x]!;
      if (v > 0) { rows.add(y); cols.add(x); }
      m += v; cx += v * x; cy += v * y;
    }
    expect(rows.size).toBe(20);
    expect(cols.size).toBe(10);
    expect(Math.abs(cx / m - 15.5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(cy / m - 15.5)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out)).toBeCloseTo(1, 6);
    // the 2-pixel border stays black
    for (let i = 0; i < 32; i++) for (const j of [0, 1, 30, 31]) { expect(out[j * 32 + i]).toBe(0); expect(out[i * 32 + j]).toBe(0); }
  });

  it('greyFromRgba reads the red channel and checks the size; softmax sums to 1', () => {
    expect(Array.from(greyFromRgba(new Uint8Array([255, 0, 0, 255, 51, 51, 51, 255]), 2, 1))).toEqual([1, Math.fround(0.2)]);
    expect(() => greyFromRgba(new Uint8Array(7), 2, 1)).toThrow(/greyFromRgba: 7 bytes is not 2×1×4/);
    const p = softmax([1, 2, 3]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[2]).toBeGreaterThan(p[1]!);
  });
});
