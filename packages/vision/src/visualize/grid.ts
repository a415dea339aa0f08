/** Image grids (torchvision.utils.make_grid / save_image), for looking at batches, feature maps and patches. */
import { checkOptions, tensor, Tensor } from '@kiln/tensor';
import { toImage } from '../transforms/functional.js';
import { writeImage } from '../image/io.js';

export interface GridOptions {
  /** Images per row (default 8). */
  nrow?: number;
  /** Pixels between and around the images (default 2). */
  padding?: number;
  /** Value of the padding pixels (default 0). */
  padValue?: number;
  /** Min–max scale values to [0, 1]: over the whole batch ('all'), per image ('each') or not at all (false, the default). */
  normalize?: 'all' | 'each' | false;
  /** Enlarge every image by this integer factor (nearest neighbour) before tiling (default 1). */
  scale?: number;
}

function minMax(d: ArrayLike<number>, start: number, end: number): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = start; i < end; i++) { const v = Number(d[i]); if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

/** Tiles images [B, C, H, W] (or [B, H, W], one channel) into one image [C, rows·(H+p)+p, nrow·(W+p)+p]. */
export function makeGrid(images: Tensor, options: GridOptions = {}): Tensor {
  const op = 'makeGrid';
  checkOptions(op, options, {
    nrow: 'posint', padding: 'nonnegint', padValue: 'finite', scale: 'posint',
    normalize: (v) => (v === 'all' || v === 'each' || v === false ? null : "'all', 'each' or false"),
  });
  if (!(images instanceof Tensor) || !(images.ndim === 3 || images.ndim === 4) || images.shape[0] === 0) {
    throw new Error(`Kiln: ${op}: expected images [B, C, H, W] or [B, H, W] with B >= 1, got ${images instanceof Tensor ? `shape [${images.shape.join(', ')}]` : String(images)}`);
  }
  const x = images.ndim === 3 ? images.unsqueeze(1) : images;
  const [b, c, h, w] = x.shape as [number, number, number, number];
  const nrow = options.nrow ?? 8, padding = options.padding ?? 2, padValue = options.padValue ?? 0, scale = options.scale ?? 1;
  for (const [name, v, min] of [['nrow', nrow, 1], ['padding', padding, 0], ['scale', scale, 1]] as const) {
    if (!(Number.isInteger(v) && v >= min)) throw new Error(`Kiln: ${op}: ${name} must be an integer >= ${min}, got ${v}`);
  }
  if (options.normalize !== undefined && options.normalize !== false && options.normalize !== 'all' && options.normalize !== 'each') {
    throw new Error(`Kiln: ${op}: normalize must be 'all', 'each' or false, got ${JSON.stringify(options.normalize)}`);
  }
  const src = x.dataSync(), per = c * h * w;
  const cols = Math.min(nrow, b), rows = Math.ceil(b / cols);
  const sh = h * scale, sw = w * scale;
  const H = rows * (sh + padding) + padding, W = cols * (sw + padding) + padding;
  const out = new Float32Array(c * H * W).fill(padValue);
  const [alo, ahi] = options.normalize === 'all' ? minMax(src, 0, src.length) : [0, 1];
  for (let n = 0; n < b; n++) {
    const [lo, hi] = options.normalize === 'each' ? minMax(src, n * per, (n + 1) * per) : options.normalize === 'all' ? [alo, ahi] : [0, 1];
    const span = hi - lo > 1e-12 ? hi - lo : 1;
    const norm = !!options.normalize;
    const oy = padding + Math.floor(n / cols) * (sh + padding), ox = padding + (n % cols) * (sw + padding);
    for (let k = 0; k < c; k++) {
      for (let y = 0; y < sh; y++) {
        for (let xx = 0; xx < sw; xx++) {
          const v = Number(src[n * per + k * h * w + Math.floor(y / scale) * w + Math.floor(xx / scale)]);
          out[k * H * W + (oy + y) * W + ox + xx] = norm ? (v - lo) / span : v;
        }
      }
    }
  }
  return tensor(out, { shape: [c, H, W] });
}

/** Tiles `images` with makeGrid and writes the grid as a PNG or JPEG (values clamped to [0, 1]). */
export async function saveImageGrid(path: string, images: Tensor, options: GridOptions = {}): Promise<void> {
  await writeImage(path, toImage(makeGrid(images, options)));
}
