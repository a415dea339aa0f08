import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensor, type Tensor } from '@kiln/tensor';
import { parseSafetensors } from '@kiln/nn';
import { compose, resize, centerCrop, normalize, toTensor, toImage, functional as F, IMAGENET_MEAN, IMAGENET_STD } from './index.js';

const fixture = (name: string) => parseSafetensors(new Uint8Array(readFileSync(fileURLToPath(new URL(`../../fixtures/transforms/${name}`, import.meta.url))))).tensors;
const ref = fixture('transforms.safetensors');
const input = ref.input!;

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync(), y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]) - Number(y[i])));
  return m;
}

describe('transforms against torchvision 0.14 (fixtures from scripts/gen_transform_fixtures.py)', () => {
  it.each([
    ['resize_short20', 20, false], ['resize_short20_aa', 20, true],
    ['resize_24x31', [24, 31], false], ['resize_24x31_aa', [24, 31], true],
    ['resize_up50x70', [50, 70], false], ['resize_up50x70_aa', [50, 70], true],
    ['resize_9x5_aa', [9, 5], true],
  ] as const)('%s', (name, size, antialias) => {
    const y = F.resize(input, size, { antialias });
    expect(maxDiff(y, ref[name]!)).toBeLessThan(2e-6);
    // batched input gives the same per image
    expect(maxDiff(F.resize(input.unsqueeze(0), size, { antialias }).squeeze(0), y)).toBe(0);
  });
  it('resize with maxSize', () => {
    expect(maxDiff(F.resize(input, 30, { maxSize: 40 }), ref.resize_short30_max40!)).toBeLessThan(2e-6);
  });
  it.each([
    ['crop_16x20', [16, 20]], ['crop_21', 21], ['crop_36x52', [36, 52]], ['crop_40x60', [40, 60]],
  ] as const)('centerCrop %s', (name, size) => {
    expect(maxDiff(F.centerCrop(input, size), ref[name]!)).toBe(0);
  });
  it('normalize with the ImageNet constants', () => {
    expect(IMAGENET_MEAN).toEqual([0.485, 0.456, 0.406]);
    expect(IMAGENET_STD).toEqual([0.229, 0.224, 0.225]);
    expect(maxDiff(F.normalize(input), ref.normalize_imagenet!)).toBeLessThan(1e-6);
  });
  it('compose([resize(24, antialias), centerCrop(20), normalize()]) equals torchvision Compose', () => {
    const t = compose([resize(24, { antialias: true }), centerCrop(20), normalize()]);
    expect(maxDiff(t(input), ref.compose!)).toBeLessThan(5e-6);
    expect(t.description).toBe('compose([resize(24, antialias), centerCrop(20), normalize(mean=[0.485,0.456,0.406], std=[0.229,0.224,0.225])])');
  });
  it('antialias low-passes: a one-pixel checkerboard shrunk 3× is flat with it, aliased without', () => {
    const n = 24, d = new Float32Array(n * n);
    for (let i = 0; i < n * n; i++) d[i] = ((i % n) + Math.floor(i / n)) % 2;
    const img = tensor(d, { shape: [1, n, n] });
    const spread = (t: Tensor) => { const v = Array.from(t.dataSync() as Float32Array); return Math.max(...v) - Math.min(...v); };
    expect(spread(F.resize(img, [8, 8], { antialias: true }))).toBeLessThan(0.05);
    expect(spread(F.resize(img, [8, 8]))).toBeGreaterThan(0.9); // plain bilinear samples every third pixel
  });
});

describe('toTensor / toImage', () => {
  it('HWC uint8 → CHW float in [0, 1] and back exactly', () => {
    const img = { width: 3, height: 2, channels: 3 as const, data: Uint8Array.from({ length: 18 }, (_, i) => i * 14) };
    const t = toTensor()(img);
    expect(t.shape).toEqual([3, 2, 3]);
    expect(t.dataSync()[0]).toBeCloseTo(0, 7);
    expect(t.dataSync()[1]).toBeCloseTo(42 / 255, 7); // pixel (0, 1), red
    expect(t.dataSync()[6]).toBeCloseTo(14 / 255, 7); // pixel (0, 0), green
    expect(toImage()(t)).toEqual(img);
    expect(toImage()(tensor([[-1, 2]])).data).toEqual(Uint8Array.from([0, 255])); // clamped
  });
});

describe('bad input', () => {
  it('names the transform, the argument and the value', () => {
    expect(() => F.resize(tensor([1, 2, 3]), 4)).toThrow(/Kiln: resize: expected an image tensor \[C, H, W\] or \[N, C, H, W\], got shape \[3\]/);
    expect(() => resize(0)).toThrow(/Kiln: resize: size must be a positive integer or \[h, w\] of them, got 0/);
    expect(() => F.resize(input, [4, 5], { maxSize: 9 })).toThrow(/maxSize only applies when size is a single number/);
    expect(() => F.resize(input, 30, { maxSize: 20 })).toThrow(/maxSize must be an integer greater than the requested shorter edge 30, got 20/);
    expect(() => F.resize(input, 4, { antialas: true } as never)).toThrow(/resize: unknown option 'antialas'/);
    // the factory checks its options when the pipeline is built, not at the first image
    expect(() => resize(256, { antiAlias: true } as never)).toThrow(/^Kiln: resize: unknown option 'antiAlias' \(known: antialias, maxSize\)$/);
    expect(() => F.centerCrop(input, [4, -1] as never)).toThrow(/centerCrop: size must be a positive integer/);
    expect(() => F.normalize(input, [0.5, 0.5])).toThrow(/normalize: mean must be 1 or 3 \(the channel count\) finite numbers, got \[0.5,0.5\]/);
    expect(() => F.normalize(input, [0.5], [0])).toThrow(/normalize: std must not contain 0/);
    expect(() => toImage()(tensor([[[1]], [[1]]]))).toThrow(/toImage: expected 1, 3 or 4 channels, got shape \[2, 1, 1\]/);
    expect(() => compose([resize(4), 3 as never])).toThrow(/compose: transform 1 is not a function/);
    expect(() => compose([centerCrop(4), normalize([0.1, 0.2])])(input)).toThrow(/normalize: mean must be 1 or 3.*\(in compose\(\[centerCrop\(4\), normalize.*transform 1\)/);
  });
});
