import { describe, expect, it } from 'vitest';
import { tensor } from '@kiln/tensor';
import type { Image } from '../image/image.js';
import { BOX_COLORS, drawBoxes, upscaleNearest } from './draw.js';

describe('drawBoxes / upscaleNearest', () => {
  const img: Image = { width: 10, height: 8, channels: 3, data: new Uint8Array(240).fill(7) };
  const px = (im: Image, x: number, y: number) => Array.from(im.data.subarray((y * im.width + x) * 3, (y * im.width + x) * 3 + 3));
  it('outlines each box in its class colour, leaves the inside and the input untouched', () => {
    const out = drawBoxes(img, tensor([[1, 1, 5, 4], [6, 2, 9, 7]]), { labels: tensor([2, 0], { dtype: 'int32' }) });
    expect(px(out, 1, 1)).toEqual([...BOX_COLORS[2]!]);
    expect(px(out, 4, 3)).toEqual([...BOX_COLORS[2]!]); // x2 = 5 exclusive → last column 4
    expect(px(out, 2, 2)).toEqual([7, 7, 7]);
    expect(px(out, 8, 6)).toEqual([...BOX_COLORS[0]!]);
    expect(px(img, 1, 1)).toEqual([7, 7, 7]);
    const scaled = drawBoxes(upscaleNearest(img, 3), tensor([[1, 1, 5, 4]]), { scale: 3, thickness: 2, color: [1, 2, 3] });
    expect(scaled.width).toBe(30);
    expect(Array.from(scaled.data.subarray((4 * 30 + 4) * 3, (4 * 30 + 4) * 3 + 3))).toEqual([1, 2, 3]);
    expect(Array.from(scaled.data.subarray((5 * 30 + 5) * 3, (5 * 30 + 5) * 3 + 3))).toEqual([7, 7, 7]);
  });
  it('bad input', () => {
    expect(() => drawBoxes(img, tensor([[1, 1, 5]]))).toThrow(/Kiln: drawBoxes: boxes must have shape \[N, 4\], got \[1, 3\]/);
    expect(() => drawBoxes(img, tensor([[1, 1, 5, 4]]), { labels: tensor([0, 1], { dtype: 'int32' }) })).toThrow(/drawBoxes: labels must have 1 entries to match boxes \[1, 4\], got 2/);
    expect(() => upscaleNearest(img, 0)).toThrow(/upscaleNearest: factor must be a positive integer, got 0/);
    // these used to draw nothing, or ignore the option, without a word
    expect(() => drawBoxes(img, tensor([[1, 1, 5, 4]]), { thickness: 0 })).toThrow(/^Kiln: drawBoxes: option 'thickness' must be a positive integer, got 0$/);
    expect(() => drawBoxes(img, tensor([[1, 1, 5, 4]]), { colour: [1, 2, 3] } as never)).toThrow(/^Kiln: drawBoxes: unknown option 'colour' \(known: labels, color, thickness, scale\)$/);
    expect(() => drawBoxes(img, tensor([[1, 1, 5, 4]]), { scale: Number.NaN })).toThrow(/^Kiln: drawBoxes: option 'scale' must be a positive number, got NaN$/);
    expect(() => drawBoxes(img, tensor([[1, 1, 5, 4]]), { color: [300, 0, 0] as never })).toThrow(/^Kiln: drawBoxes: option 'color' must be an \[r, g, b\] of integers in \[0, 255\], got \[300,0,0\]$/);
  });
});
