import { describe, expect, it } from 'vitest';
import { segmentationShapes } from './segmentation.js';

describe('segmentationShapes', () => {
  it('gives images and int32 masks whose foreground matches the drawn pixels; classes in range; seeded', () => {
    const d = segmentationShapes(40, { seed: 5, noise: 0 });
    expect(d.x.shape).toEqual([40, 3, 32, 32]);
    expect(d.masks.shape).toEqual([40, 32, 32]);
    expect(d.masks.dtype).toBe('int32');
    expect(d.classes).toEqual(['background', 'circle', 'square', 'triangle']);
    const x = d.x.dataSync() as Float32Array, m = d.masks.dataSync() as Int32Array;
    const seen = new Set<number>();
    let agree = 0, total = 0;
    for (let i = 0; i < 40; i++) {
      // with no noise, the background colour is the most common colour; mask 0 pixels must have it
      const plane = 32 * 32, base = i * 3 * plane;
      const bgPix = Array.from({ length: plane }, (_, p) => p).filter((p) => m[i * plane + p] === 0);
      expect(bgPix.length).toBeGreaterThan(0);
      const bg = [0, 1, 2].map((c) => x[base + c * plane + bgPix[0]!]!);
      for (let p = 0; p < plane; p++) {
        const label = m[i * plane + p]!;
        seen.add(label);
        const d2 = Math.hypot(...[0, 1, 2].map((c) => x[base + c * plane + p]! - bg[c]!));
        // pixels fully inside or outside a shape agree with the mask; edge pixels are anti-aliased
        if (d2 < 0.01 || d2 > 0.4) { total++; if ((label === 0) === d2 < 0.01) agree++; }
      }
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
    expect(agree / total).toBeGreaterThan(0.99);
    const again = segmentationShapes(40, { seed: 5, noise: 0 });
    expect(Array.from(again.masks.dataSync())).toEqual(Array.from(m));
    expect(Array.from(segmentationShapes(4, { seed: 6 }).masks.dataSync())).not.toEqual(Array.from(m.slice(0, 4 * 1024)));
  });

  it('honours size, numClasses and object counts', () => {
    const d = segmentationShapes(30, { size: 16, numClasses: 4, minObjects: 0, maxObjects: 0, seed: 1 });
    expect(d.masks.shape).toEqual([30, 16, 16]);
    expect(d.classes).toHaveLength(5);
    expect(Array.from(d.masks.dataSync()).every((v) => v === 0)).toBe(true);
  });

  it('rejects bad arguments with the function and option named', () => {
    expect(() => segmentationShapes(0)).toThrow(/segmentationShapes: n must be a positive integer, got 0/);
    expect(() => segmentationShapes(2, { colour: 1 } as never)).toThrow(/segmentationShapes: unknown option 'colour'/);
    expect(() => segmentationShapes(2, { minObjects: 3, maxObjects: 1 })).toThrow(/minObjects \(3\) must be <= maxObjects \(1\)/);
    expect(() => segmentationShapes(2, { numClasses: 5 })).toThrow(/option 'numClasses' must be an integer in \[1, 4\], got 5/);
  });
});
