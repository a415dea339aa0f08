/** Drawing detection boxes onto images (for looking at what a detector found). */
import { checkOptions, Tensor } from '@kiln/tensor';
import { checkImage, type Image } from '../image/image.js';
import { checkBoxShape } from '../ops/boxes.js';

/** Distinct RGB colours, one per class id (cycled). */
export const BOX_COLORS: readonly (readonly [number, number, number])[] = [
  [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230], [255, 225, 25],
];

export interface DrawBoxesOptions {
  /** Class ids [k] choosing each box's colour from BOX_COLORS (default: all colour 0). */
  labels?: Tensor;
  /** One colour for every box (overrides labels). */
  color?: readonly [number, number, number];
  /** Line width in pixels (default 1). */
  thickness?: number;
  /** Multiply box coordinates by this before drawing (for boxes of a smaller image; default 1). */
  scale?: number;
}

/** A copy of `img` (RGB or RGBA) with the outlines of xyxy `boxes` [k, 4] drawn on it. */
export function drawBoxes(img: Image, boxes: Tensor, options: DrawBoxesOptions = {}): Image {
  checkImage('drawBoxes', img);
  checkBoxShape('drawBoxes', 'boxes', boxes);
  checkOptions('drawBoxes', options, {
    labels: (v) => (v instanceof Tensor ? null : 'a Tensor of class ids'),
    color: (v) => (Array.isArray(v) && v.length === 3 && v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) ? null : 'an [r, g, b] of integers in [0, 255]'),
    thickness: 'posint',
    scale: (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'a positive number'),
  });
  if (img.channels < 3) throw new Error(`Kiln: drawBoxes: image must be RGB or RGBA, got ${img.channels} channel(s)`);
  const k = boxes.shape[0]!, labels = options.labels?.dataSync();
  if (labels && labels.length !== k) throw new Error(`Kiln: drawBoxes: labels must have ${k} entries to match boxes [${boxes.shape.join(', ')}], got ${labels.length}`);
  const t = options.thickness ?? 1, sc = options.scale ?? 1, { width: w, height: h, channels: c } = img;
  const data = img.data.slice();
  const b = boxes.dataSync();
  const put = (x: number, y: number, col: readonly number[]) => {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    for (let ch = 0; ch < 3; ch++) data[(y * w + x) * c + ch] = col[ch]!;
  };
  for (let i = 0; i < k; i++) {
    const col = options.color ?? BOX_COLORS[(labels ? Number(labels[i]) : 0) % BOX_COLORS.length]!;
    const x0 = Math.round(b[4 * i]! * sc), y0 = Math.round(b[4 * i + 1]! * sc), x1 = Math.round(b[4 * i + 2]! * sc) - 1, y1 = Math.round(b[4 * i + 3]! * sc) - 1;
    for (let d = 0; d < t; d++) {
      for (let x = x0; x <= x1; x++) { put(x, y0 + d, col); put(x, y1 - d, col); }
      for (let y = y0; y <= y1; y++) { put(x0 + d, y, col); put(x1 - d, y, col); }
    }
  }
  return { width: w, height: h, channels: c, data };
}

/** Nearest-neighbour enlargement by an integer factor (so small images can be looked at). */
export function upscaleNearest(img: Image, factor: number): Image {
  checkImage('upscaleNearest', img);
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`Kiln: upscaleNearest: factor must be a positive integer, got ${factor}`);
  const { width: w, height: h, channels: c } = img, W = w * factor, H = h * factor, out = new Uint8Array(W * H * c);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const s = (Math.floor(y / factor) * w + Math.floor(x / factor)) * c;
    out.set(img.data.subarray(s, s + c), (y * W + x) * c);
  }
  return { width: W, height: H, channels: c, data: out };
}
