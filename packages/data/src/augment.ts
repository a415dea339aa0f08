import { Tensor, tensor, Generator, checkOptions } from '@kiln/tensor';

/** Image augmentation on NCHW float batches; each function draws per-image randomness from `generator`. */

function checkNCHW(op: string, x: Tensor): [number, number, number, number] {
  if (x.shape.length !== 4) throw new Error(`Kiln: ${op}: expects an NCHW tensor, got shape [${x.shape.join(',')}]`);
  return x.shape as unknown as [number, number, number, number];
}

/** float64 batches stay float64 (a Float32Array here used to return them as float32); anything else comes back float32. */
const floatDtype = (x: Tensor): 'float32' | 'float64' => (x.dtype === 'float64' ? 'float64' : 'float32');
const floatBuffer = (x: Tensor, n: number): Float32Array | Float64Array => (x.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n));

function checkGenerator(op: string, generator: unknown): void {
  if (!(generator instanceof Generator)) throw new Error(`Kiln: ${op}: generator must be a Generator, got ${typeof generator === 'number' ? generator : typeof generator}`);
}

/** Mirrors each image left–right with probability `p`. */
export function randomHorizontalFlip(x: Tensor, generator: Generator, p = 0.5): Tensor {
  const [n, c, h, w] = checkNCHW('randomHorizontalFlip', x);
  checkGenerator('randomHorizontalFlip', generator);
  if (!(typeof p === 'number' && p >= 0 && p <= 1)) throw new Error(`Kiln: randomHorizontalFlip: p must be a number in [0, 1], got ${p}`);
  const src = x.dataSync(), out = floatBuffer(x, src.length);
  for (let i = 0; i < n; i++) {
    const flip = generator.random() < p;
    for (let j = 0; j < c * h; j++) {
      const base = (i * c * h + j) * w;
      for (let k = 0; k < w; k++) out[base + k] = src[base + (flip ? w - 1 - k : k)] as number;
    }
  }
  return tensor(out, { shape: x.shape, dtype: floatDtype(x) });
}

/** Pads each image by `padding` (zeros) and crops a random `size` window (default the original size). */
export function randomCrop(x: Tensor, generator: Generator, options: { padding?: number; size?: [number, number] } = {}): Tensor {
  const [n, c, h, w] = checkNCHW('randomCrop', x);
  checkGenerator('randomCrop', generator);
  checkOptions('randomCrop', options, {
    padding: 'nonnegint',
    size: (v) => (Array.isArray(v) && v.length === 2 && v.every((s) => Number.isInteger(s) && s > 0) ? null : 'a pair of positive integers [height, width]'),
  });
  const pad = options.padding ?? 0;
  const [oh, ow] = options.size ?? [h, w];
  if (oh > h + 2 * pad || ow > w + 2 * pad) throw new Error(`Kiln: randomCrop: size [${oh},${ow}] larger than padded image [${h + 2 * pad},${w + 2 * pad}]`);
  const src = x.dataSync(), out = floatBuffer(x, n * c * oh * ow);
  for (let i = 0; i < n; i++) {
    const top = generator.randint(0, h + 2 * pad - oh + 1) - pad, left = generator.randint(0, w + 2 * pad - ow + 1) - pad;
    for (let ch = 0; ch < c; ch++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
      const sy = y + top, sx = xx + left;
      if (sy >= 0 && sy < h && sx >= 0 && sx < w) out[((i * c + ch) * oh + y) * ow + xx] = src[((i * c + ch) * h + sy) * w + sx] as number;
    }
  }
  return tensor(out, { shape: [n, c, oh, ow], dtype: floatDtype(x) });
}

/** Adds a random brightness offset in [-brightness, brightness] per image and a per-channel colour shift in [-shift, shift]. */
export function colorShift(x: Tensor, generator: Generator, options: { brightness?: number; shift?: number } = {}): Tensor {
  const [n, c, h, w] = checkNCHW('colorShift', x);
  checkGenerator('colorShift', generator);
  checkOptions('colorShift', options, { brightness: 'number', shift: 'number' });
  const b = options.brightness ?? 0.1, s = options.shift ?? 0;
  const src = x.dataSync(), out = floatBuffer(x, src.length);
  for (let i = 0; i < n; i++) {
    const db = (2 * generator.random() - 1) * b;
    for (let ch = 0; ch < c; ch++) {
      const d = db + (2 * generator.random() - 1) * s, base = (i * c + ch) * h * w;
      for (let k = 0; k < h * w; k++) out[base + k] = (src[base + k] as number) + d;
    }
  }
  return tensor(out, { shape: x.shape, dtype: floatDtype(x) });
}

/** Rotates each image about its centre by an angle drawn from [-maxDegrees, maxDegrees], bilinear sampling, zeros outside. */
export function randomRotation(x: Tensor, generator: Generator, maxDegrees = 10): Tensor {
  const [n, c, h, w] = checkNCHW('randomRotation', x);
  checkGenerator('randomRotation', generator);
  if (!(typeof maxDegrees === 'number' && Number.isFinite(maxDegrees) && maxDegrees >= 0)) {
    throw new Error(`Kiln: randomRotation: maxDegrees must be a finite number >= 0, got ${maxDegrees}`);
  }
  const src = x.dataSync(), out = floatBuffer(x, src.length);
  const cy = (h - 1) / 2, cx = (w - 1) / 2;
  const at = (base: number, y: number, xx: number): number => (y >= 0 && y < h && xx >= 0 && xx < w ? (src[base + y * w + xx] as number) : 0);
  for (let i = 0; i < n; i++) {
    const a = ((2 * generator.random() - 1) * maxDegrees * Math.PI) / 180, cos = Math.cos(a), sin = Math.sin(a);
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * h * w;
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
        // Inverse-map the output pixel into the source image.
        const sx = cos * (xx - cx) + sin * (y - cy) + cx, sy = -sin * (xx - cx) + cos * (y - cy) + cy;
        const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
        out[base + y * w + xx] = (1 - fy) * ((1 - fx) * at(base, y0, x0) + fx * at(base, y0, x0 + 1)) + fy * ((1 - fx) * at(base, y0 + 1, x0) + fx * at(base, y0 + 1, x0 + 1));
      }
    }
  }
  return tensor(out, { shape: x.shape, dtype: floatDtype(x) });
}
