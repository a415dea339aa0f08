import { describe, it, expect } from 'vitest';
import { Generator, randn } from '@kiln/tensor';
import { randomHorizontalFlip, randomCrop, colorShift, randomRotation } from './index.js';

const img = () => randn([3, 2, 5, 6], { generator: new Generator(3) });

describe('augmentation', () => {
  it('flipping twice with p=1 is the identity, once mirrors columns', () => {
    const x = img(), g = new Generator(1);
    const once = randomHorizontalFlip(x, g, 1);
    expect(Array.from(randomHorizontalFlip(once, g, 1).dataSync())).toEqual(Array.from(x.dataSync()));
    expect(once.dataSync()[0]).toBe(x.dataSync()[5]);
    expect(Array.from(randomHorizontalFlip(x, g, 0).dataSync())).toEqual(Array.from(x.dataSync()));
  });
  it('random crop keeps the shape and only moves pixels', () => {
    const x = img(), y = randomCrop(x, new Generator(2), { padding: 2 });
    expect(y.shape).toEqual(x.shape);
    const src = new Set(Array.from(x.dataSync()));
    for (const v of y.dataSync()) expect(v === 0 || src.has(v)).toBe(true);
    expect(Array.from(randomCrop(x, new Generator(2)).dataSync())).toEqual(Array.from(x.dataSync()));
    expect(randomCrop(x, new Generator(2), { size: [3, 3] }).shape).toEqual([3, 2, 3, 3]);
  });
  it('colour shift adds a bounded offset, same per channel', () => {
    const x = img(), y = colorShift(x, new Generator(4), { brightness: 0.2 });
    const d = Array.from(y.dataSync(), (v, i) => v - x.dataSync()[i]!);
    for (const v of d) expect(Math.abs(v)).toBeLessThanOrEqual(0.2 + 1e-6);
    expect(d[0]).toBeCloseTo(d[29]!, 5);
    expect(d[0]).not.toBeCloseTo(0, 5);
  });
  it('rotation by 0 degrees is the identity and small rotations keep the shape', () => {
    const x = img();
    expect(Array.from(randomRotation(x, new Generator(1), 0).dataSync())).toEqual(Array.from(x.dataSync()).map((v) => expect.closeTo(v, 5)));
    const y = randomRotation(x, new Generator(1), 15);
    expect(y.shape).toEqual(x.shape);
    expect(Array.from(y.dataSync())).not.toEqual(Array.from(x.dataSync()));
    expect(() => randomRotation(randn([2, 3]), new Generator(1))).toThrow(/NCHW/);
  });
  it('keeps a float64 batch float64 (values exact)', () => {
    const x = randn([2, 1, 3, 4], { generator: new Generator(5), dtype: 'float64' }), g = new Generator(1);
    for (const y of [randomHorizontalFlip(x, g, 1), randomCrop(x, g, { padding: 1 }), colorShift(x, g), randomRotation(x, g, 0)]) expect(y.dtype).toBe('float64');
    const back = randomHorizontalFlip(randomHorizontalFlip(x, g, 1), g, 1);
    expect(Array.from(back.dataSync())).toEqual(Array.from(x.dataSync()));
  });
  it('rejects a probability or angle that would silently misbehave, and a missing generator', () => {
    const x = img(), g = new Generator(1);
    expect(() => randomHorizontalFlip(x, g, 1.5)).toThrow(/^Kiln: randomHorizontalFlip: p must be a number in \[0, 1\], got 1\.5$/);
    expect(() => randomHorizontalFlip(x, 0.5 as never)).toThrow(/^Kiln: randomHorizontalFlip: generator must be a Generator, got 0\.5$/);
    // a NaN angle used to fill the whole batch with NaN
    expect(() => randomRotation(x, g, Number.NaN)).toThrow(/^Kiln: randomRotation: maxDegrees must be a finite number >= 0, got NaN$/);
    expect(() => randomCrop(x, undefined as never, { padding: 2 })).toThrow(/^Kiln: randomCrop: generator must be a Generator, got undefined$/);
  });
});
