/**
 * The image transforms as plain functions on tensors (torchvision's `transforms.functional`):
 * images are float tensors [C, H, W] or batches [N, C, H, W] with values in [0, 1] after `toTensor`.
 */
import { checkOptions, interpolate, pad, tensor, Tensor } from '@kiln/tensor';
import { checkImage, type Image } from '../image/image.js';

/** ImageNet's per-channel mean and standard deviation (RGB), as torchvision's pretrained weights expect. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

function checkImageTensor(op: string, x: Tensor): void {
  if (!(x instanceof Tensor)) throw new Error(`Kiln: ${op}: expected an image Tensor [C, H, W] or [N, C, H, W], got ${String(x)}`);
  if (x.ndim !== 3 && x.ndim !== 4) throw new Error(`Kiln: ${op}: expected an image tensor [C, H, W] or [N, C, H, W], got shape [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`Kiln: ${op}: expected a float32 or float64 image tensor, got ${x.dtype} (use toTensor on 8-bit images)`);
}

const isPosInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** Python's round(): halves go to the even neighbour (torchvision's centre-crop offsets use it). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v), d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export type Size = number | readonly [number] | readonly [number, number];

export interface ResizeOptions {
  /**
   * Low-pass the image while shrinking it (the triangle filter of PIL and of PyTorch's
   * `antialias=True`); default false, as for tensors in torchvision 0.14.
   */
  antialias?: boolean;
  /** With a single size: the longer edge may not exceed this (the shorter one is scaled down to fit). */
  maxSize?: number;
}

/** The output [height, width] torchvision computes for `size` (one number: the shorter edge; two: exact). */
export function resizedSize(height: number, width: number, size: Size, maxSize?: number): [number, number] {
  const list = typeof size === 'number' ? [size] : [...size];
  if (!(list.length === 1 || list.length === 2) || !list.every(isPosInt)) {
    throw new Error(`Kiln: resize: size must be a positive integer or [h, w] of them, got ${JSON.stringify(size)}`);
  }
  if (list.length === 2) {
    if (maxSize !== undefined) throw new Error(`Kiln: resize: maxSize only applies when size is a single number (the shorter edge), got size ${JSON.stringify(size)}`);
    return [list[0]!, list[1]!];
  }
  const req = list[0]!;
  const [short, long] = width <= height ? [width, height] : [height, width];
  let newShort = req, newLong = Math.trunc((req * long) / short);
  if (maxSize !== undefined) {
    if (!isPosInt(maxSize) || maxSize <= req) throw new Error(`Kiln: resize: maxSize must be an integer greater than the requested shorter edge ${req}, got ${maxSize}`);
    if (newLong > maxSize) { newShort = Math.trunc((maxSize * newShort) / newLong); newLong = maxSize; }
  }
  return width <= height ? [newLong, newShort] : [newShort, newLong];
}

/** Per output index: first input index and normalised triangle-filter weights (PIL's / PyTorch's antialiased bilinear). */
function antialiasWeights(inLen: number, outLen: number): { start: Int32Array; size: Int32Array; w: Float64Array; width: number } {
  const scale = inLen / outLen;
  const support = scale >= 1 ? scale : 1;
  const invscale = scale >= 1 ? 1 / scale : 1;
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outLen), size = new Int32Array(outLen), w = new Float64Array(outLen * width);
  for (let i = 0; i < outLen; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inLen) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const t = Math.abs((j + xmin - center + 0.5) * invscale);
      const v = t < 1 ? 1 - t : 0;
      w[i * width + j] = v;
      total += v;
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) w[i * width + j]! /= total;
    start[i] = xmin;
    size[i] = xsize;
  }
  return { start, size, w, width };
}

/** Resamples the last dim of `src` (rows of length inLen) to outLen with the weights. */
function resampleRows(src: Float64Array, rows: number, inLen: number, outLen: number): Float64Array {
  const { start, size, w, width } = antialiasWeights(inLen, outLen);
  const out = new Float64Array(rows * outLen);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < outLen; i++) {
      let acc = 0;
      const base = r * inLen + start[i]!;
      for (let j = 0; j < size[i]!; j++) acc += w[i * width + j]! * src[base + j]!;
      out[r * outLen + i] = acc;
    }
  }
  return out;
}

function transposeLast2(src: Float64Array, planes: number, h: number, w: number): Float64Array {
  const out = new Float64Array(src.length);
  for (let p = 0; p < planes; p++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[p * h * w + x * h + y] = src[p * h * w + y * w + x]!;
  return out;
}

/**
 * Bilinear resize with torchvision's semantics: a single `size` sets the shorter edge (the
 * other keeps the aspect ratio, truncated), `[h, w]` sets both; half-pixel centres
 * (align_corners=False). Without antialias this is `interpolate(mode 'bilinear')` (and
 * differentiable); with it, a separable triangle filter widened by the shrink factor.
 */
export function resize(x: Tensor, size: Size, options: ResizeOptions = {}): Tensor {
  checkImageTensor('resize', x);
  checkOptions('resize', options, { antialias: 'boolean', maxSize: 'posint' });
  const h = x.shape[x.ndim - 2]!, w = x.shape[x.ndim - 1]!;
  const [oh, ow] = resizedSize(h, w, size, options.maxSize);
  const batched = x.ndim === 4 ? x : x.unsqueeze(0);
  if (!options.antialias) {
    const y = interpolate(batched, { size: [oh, ow], mode: 'bilinear', alignCorners: false });
    return x.ndim === 4 ? y : y.squeeze(0);
  }
  const planes = x.numel() / (h * w);
  const src = Float64Array.from(x.dataSync() as Float32Array);
  // width first, then height (as a pass over the transposed planes)
  const rowsDone = resampleRows(src, planes * h, w, ow);
  const cols = resampleRows(transposeLast2(rowsDone, planes, h, ow), planes * ow, h, oh);
  const out = transposeLast2(cols, planes, ow, oh);
  const data = x.dtype === 'float32' ? Float32Array.from(out) : out;
  return tensor(data, { shape: [...x.shape.slice(0, -2), oh, ow], dtype: x.dtype });
}

/**
 * Crops the centre `size` ([h, w] or a square side); offsets round((H − h) / 2) with Python's
 * half-to-even rounding, and an image smaller than the crop is zero-padded first, as torchvision does.
 */
export function centerCrop(x: Tensor, size: number | readonly [number] | readonly [number, number]): Tensor {
  checkImageTensor('centerCrop', x);
  const list = typeof size === 'number' ? [size, size] : size.length === 1 ? [size[0], size[0]] : [...size];
  if (list.length !== 2 || !list.every(isPosInt)) throw new Error(`Kiln: centerCrop: size must be a positive integer or [h, w] of them, got ${JSON.stringify(size)}`);
  const [ch, cw] = list as [number, number];
  let img = x, h = x.shape[x.ndim - 2]!, w = x.shape[x.ndim - 1]!;
  if (cw > w || ch > h) {
    const left = cw > w ? Math.floor((cw - w) / 2) : 0, top = ch > h ? Math.floor((ch - h) / 2) : 0;
    const right = cw > w ? Math.floor((cw - w + 1) / 2) : 0, bottom = ch > h ? Math.floor((ch - h + 1) / 2) : 0;
    img = pad(img, [left, right, top, bottom]);
    h = img.shape[img.ndim - 2]!; w = img.shape[img.ndim - 1]!;
    if (ch === h && cw === w) return img;
  }
  const top = roundHalfEven((h - ch) / 2), left = roundHalfEven((w - cw) / 2);
  return img.narrow(img.ndim - 2, top, ch).narrow(img.ndim - 1, left, cw);
}

/** (x − mean[c]) / std[c] per channel (one value each, or one per channel); defaults: ImageNet's. */
export function normalize(x: Tensor, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): Tensor {
  checkImageTensor('normalize', x);
  const c = x.shape[x.ndim - 3]!;
  for (const [name, v] of [['mean', mean], ['std', std]] as const) {
    if (!Array.isArray(v) || !(v.length === 1 || v.length === c) || !v.every(Number.isFinite)) {
      throw new Error(`Kiln: normalize: ${name} must be 1 or ${c} (the channel count) finite numbers, got ${JSON.stringify(v)}`);
    }
  }
  if (std.some((s) => s === 0)) throw new Error(`Kiln: normalize: std must not contain 0, got ${JSON.stringify(std)}`);
  const shape = [c, 1, 1];
  const m = tensor(Array.from({ length: c }, (_, i) => mean[mean.length === 1 ? 0 : i]!), { dtype: x.dtype }).reshape(shape);
  const s = tensor(Array.from({ length: c }, (_, i) => std[std.length === 1 ? 0 : i]!), { dtype: x.dtype }).reshape(shape);
  return x.sub(m).div(s);
}

/** An 8-bit HWC Image → float32 [C, H, W] in [0, 1] (value / 255), like torchvision's to_tensor. */
export function toTensor(img: Image): Tensor {
  checkImage('toTensor', img);
  const { width: w, height: h, channels: c, data } = img;
  const out = new Float32Array(c * h * w);
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) out[k * h * w + p] = data[p * c + k]! / 255;
  return tensor(out, { shape: [c, h, w] });
}

/**
 * A [C, H, W] (C = 1, 3 or 4) or [H, W] tensor in [0, 1] → an 8-bit Image. Values are clamped
 * to [0, 1] and rounded to the nearest level (torchvision truncates, which turns 0.99999 into
 * 254 and so does not round-trip toTensor).
 */
export function toImage(x: Tensor): Image {
  if (!(x instanceof Tensor) || !(x.ndim === 2 || x.ndim === 3)) {
    throw new Error(`Kiln: toImage: expected a tensor [C, H, W] or [H, W], got ${x instanceof Tensor ? `shape [${x.shape.join(', ')}]` : String(x)}`);
  }
  const c = x.ndim === 2 ? 1 : x.shape[0]!, h = x.shape[x.ndim - 2]!, w = x.shape[x.ndim - 1]!;
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`Kiln: toImage: expected 1, 3 or 4 channels, got shape [${x.shape.join(', ')}]`);
  const src = x.dataSync(), data = new Uint8Array(c * h * w);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < c; k++) {
      const v = Number(src[k * h * w + p]);
      data[p * c + k] = Number.isNaN(v) ? 0 : Math.round(255 * Math.min(1, Math.max(0, v)));
    }
  }
  return { width: w, height: h, channels: c, data };
}
