import { describe, expect, it } from 'vitest';
import { DETECTION_CLASSES, detectionShapes, localizationShapes, shapeLandmarks } from '../index.js';

/** Pixels of image i that differ from the background colour (noise 0; pixel (0,0) must be background). */
function foregroundBox(x: Float32Array, i: number, s: number, bg: number[]): [number, number, number, number] | null {
  const plane = s * s, base = i * 3 * plane;
  let x0 = s, y0 = s, x1 = -1, y1 = -1;
  for (let p = 0; p < plane; p++) {
    const d = Math.hypot(...[0, 1, 2].map((c) => x[base + c * plane + p]! - bg[c]!));
    if (d > 0.05) { const px = p % s, py = Math.floor(p / s); x0 = Math.min(x0, px); y0 = Math.min(y0, py); x1 = Math.max(x1, px + 1); y1 = Math.max(y1, py + 1); }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}
const bgOf = (x: Float32Array, i: number, s: number) => [0, 1, 2].map((c) => x[i * 3 * s * s + c * s * s]!);

describe('detectionShapes', () => {
  it('gives images, per-image xyxy boxes inside the image and class ids; counts within range; seeded', () => {
    const d = detectionShapes(60, { seed: 3, minObjects: 1, maxObjects: 4 });
    expect(d.x.shape).toEqual([60, 3, 32, 32]);
    expect(d.classes).toEqual(DETECTION_CLASSES.slice(0, 3));
    const counts = new Set<number>();
    let overlaps = 0;
    for (let i = 0; i < 60; i++) {
      const b = d.boxes[i]!.dataSync(), l = d.labels[i]!.dataSync();
      expect(d.boxes[i]!.shape).toEqual([l.length, 4]);
      counts.add(l.length);
      for (let k = 0; k < l.length; k++) {
        expect(l[k]).toBeGreaterThanOrEqual(0);
        expect(l[k]).toBeLessThan(3);
        expect(b[4 * k]!).toBeGreaterThanOrEqual(0);
        expect(b[4 * k + 2]!).toBeLessThanOrEqual(32);
        expect(b[4 * k + 2]! - b[4 * k]!).toBeGreaterThan(2);
        for (let j = 0; j < k; j++) {
          const w = Math.min(b[4 * k + 2]!, b[4 * j + 2]!) - Math.max(b[4 * k]!, b[4 * j]!), h = Math.min(b[4 * k + 3]!, b[4 * j + 3]!) - Math.max(b[4 * k + 1]!, b[4 * j + 1]!);
          if (w > 0 && h > 0) overlaps++;
        }
      }
    }
    expect([...counts].sort()).toEqual([1, 2, 3, 4]);
    expect(overlaps).toBeGreaterThan(0); // overlaps do happen
    expect(Array.from(detectionShapes(3, { seed: 3 }).x.dataSync())).toEqual(Array.from(detectionShapes(3, { seed: 3 }).x.dataSync()));
  });
  it('the boxes are where the pixels are (single object, noise 0: foreground extent within a pixel of the box)', () => {
    const d = detectionShapes(20, { seed: 5, minObjects: 1, maxObjects: 1, noise: 0 });
    const x = d.x.dataSync() as Float32Array;
    for (let i = 0; i < 20; i++) {
      const fg = foregroundBox(x, i, 32, bgOf(x, i, 32))!;
      const b = Array.from(d.boxes[i]!.dataSync());
      for (let c = 0; c < 4; c++) expect(Math.abs(fg[c]! - b[c]!)).toBeLessThan(1.01);
    }
  });
  it('rejects bad options', () => {
    expect(() => detectionShapes(4, { minObjects: 3, maxObjects: 2 })).toThrow(/Kiln: detectionShapes: minObjects \(3\) must be <= maxObjects \(2\)/);
    expect(() => detectionShapes(4, { colour: 1 } as never)).toThrow(/detectionShapes: unknown option 'colour'/);
    // 20 half-image shapes that may not overlap cannot fit: this used to return images with fewer
    expect(() => detectionShapes(2, { minObjects: 20, maxObjects: 20, minRadius: 0.5, maxRadius: 0.5, maxOverlap: 0 }))
      .toThrow(/^Kiln: detectionShapes: could place only \d+ of minObjects 20 shapes in image 0 within maxOverlap 0 \(100 tries\); lower minObjects or maxRadius \(0\.5\), or raise maxOverlap$/);
  });
});

describe('localizationShapes and shapeLandmarks', () => {
  it('targets [pc, bx, by, bh, bw, c…] agree with the boxes, labels and pixels; empty images are all-zero targets', () => {
    const d = localizationShapes(40, { seed: 2, noise: 0 });
    expect(d.y.shape).toEqual([40, 8]);
    const y = d.y.dataSync(), l = d.labels.dataSync(), b = d.boxes.dataSync(), x = d.x.dataSync() as Float32Array;
    let empty = 0;
    for (let i = 0; i < 40; i++) {
      const row = Array.from(y.subarray(8 * i, 8 * i + 8));
      const fg = foregroundBox(x, i, 32, bgOf(x, i, 32));
      if (l[i] === -1) { empty++; expect(row.every((v) => v === 0)).toBe(true); expect(fg).toBeNull(); continue; }
      expect(row[0]).toBe(1);
      expect(row[5 + l[i]!]).toBe(1);
      expect(row.slice(5).reduce((a, v) => a + v, 0)).toBe(1);
      expect(row[1]! * 32).toBeCloseTo((b[4 * i]! + b[4 * i + 2]!) / 2, 3);
      expect(row[3]! * 32).toBeCloseTo(b[4 * i + 3]! - b[4 * i + 1]!, 3); // bh is the height
      for (let c = 0; c < 4; c++) expect(Math.abs(fg![c]! - b[4 * i + c]!)).toBeLessThan(1.01);
    }
    expect(empty).toBeGreaterThan(3);
    expect(empty).toBeLessThan(20);
  });
  it('landmarks are the shape\'s corners, in a fixed order (corner 0 top/upper-right, then clockwise)', () => {
    for (const corners of [3, 4]) {
      const d = shapeLandmarks(30, { seed: 4, corners, noise: 0 });
      expect(d.points.shape).toEqual([30, corners, 2]);
      const p = d.points.dataSync(), x = d.x.dataSync() as Float32Array;
      for (let i = 0; i < 30; i++) {
        const pts = Array.from({ length: corners }, (_, k) => [p[(i * corners + k) * 2]! * 32, p[(i * corners + k) * 2 + 1]! * 32] as const);
        const fg = foregroundBox(x, i, 32, bgOf(x, i, 32))!;
        for (const [px, py] of pts) { expect(px).toBeGreaterThan(fg[0] - 1); expect(px).toBeLessThan(fg[2] + 1); expect(py).toBeGreaterThan(fg[1] - 1); expect(py).toBeLessThan(fg[3] + 1); }
        // corner 0 is the topmost (triangle) / has the largest x − y (square's upper right)
        const key = (q: readonly [number, number]) => (corners === 3 ? -q[1] : q[0] - q[1]);
        expect(pts.every((q) => key(q) <= key(pts[0]!) + 1e-6)).toBe(true);
        // clockwise on screen (y down): positive signed area in (x, y)
        let area = 0;
        for (let k = 0; k < corners; k++) { const a = pts[k]!, b = pts[(k + 1) % corners]!; area += a[0] * b[1] - b[0] * a[1]; }
        expect(area).toBeGreaterThan(0);
      }
    }
  });
});
