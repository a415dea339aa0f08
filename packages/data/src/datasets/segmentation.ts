/**
 * Generated semantic-segmentation data: coloured shapes on a noisy background with a per-pixel
 * class mask (0 background, 1 + shape class), rendered by the detection set's shape renderer.
 */
import { Generator, tensor, type Tensor } from '@kiln/tensor';
import { checkGeneratorArgs } from './shapes.js';
import { DETECTION_CLASSES, contrastingColor, renderShapes, shapeBox, shapeVertices, type ShapeSpec } from './detection.js';

export interface SegmentationShapesOptions {
  /** Image side in pixels (default 32). */
  size?: number;
  seed?: number;
  /** Per-pixel background noise standard deviation (default 0.05). */
  noise?: number;
  /** Shapes per image, uniform in [minObjects, maxObjects] (defaults 1 and 3). */
  minObjects?: number;
  maxObjects?: number;
  /** Shape circumradius range as fractions of the image side (defaults 0.12 and 0.28). */
  minRadius?: number;
  maxRadius?: number;
  /** Number of shape classes, the first of circle, square, triangle, star (default 3). */
  numClasses?: number;
}

export interface SegmentationSet {
  /** Images [N, 3, size, size] float32 in [0, 1]. */
  x: Tensor;
  /** Masks [N, size, size] int32: 0 background, k + 1 for shape class k (the shape drawn on top wins). */
  masks: Tensor;
  /** Mask label i is classes[i]: 'background', then the shape classes. */
  classes: readonly string[];
}

/** Whether the point (x, y) lies in shape `s` (even–odd rule for polygons). */
function covers(s: ShapeSpec, v: readonly number[] | null, x: number, y: number): boolean {
  if (!v) return (x - s.cx) ** 2 + (y - s.cy) ** 2 <= s.r * s.r;
  let ins = false;
  for (let i = 0, k = v.length / 2, j = k - 1; i < k; j = i++) {
    const xi = v[2 * i]!, yi = v[2 * i + 1]!, xj = v[2 * j]!, yj = v[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) ins = !ins;
  }
  return ins;
}

/**
 * Seeded segmentation set: each image holds minObjects…maxObjects shapes of random class, colour,
 * size, position and rotation, wholly inside the image; shapes may overlap (later ones are drawn
 * on top, and own the overlapping pixels in the mask). A pixel's mask label is the class of the
 * topmost shape covering the pixel's centre, else 0 (background).
 */
export function segmentationShapes(n: number, options: SegmentationShapesOptions = {}): SegmentationSet {
  checkGeneratorArgs('segmentationShapes', n, options, {
    size: { min: 8, max: 512, integer: true }, seed: { min: 0, max: 2 ** 32, integer: true }, noise: { min: 0, max: 1 },
    minObjects: { min: 0, max: 20, integer: true }, maxObjects: { min: 0, max: 20, integer: true },
    minRadius: { min: 0.02, max: 0.5 }, maxRadius: { min: 0.02, max: 0.5 }, numClasses: { min: 1, max: 4, integer: true },
  });
  const s = options.size ?? 32, noise = options.noise ?? 0.05, nc = options.numClasses ?? 3;
  const lo = options.minObjects ?? 1, hi = options.maxObjects ?? 3;
  const rLo = options.minRadius ?? 0.12, rHi = options.maxRadius ?? 0.28;
  if (lo > hi) throw new Error(`Kiln: segmentationShapes: minObjects (${lo}) must be <= maxObjects (${hi})`);
  if (rLo > rHi) throw new Error(`Kiln: segmentationShapes: minRadius (${rLo}) must be <= maxRadius (${rHi})`);
  const g = new Generator(options.seed ?? 0);
  const x = new Float32Array(n * 3 * s * s), masks = new Int32Array(n * s * s);
  for (let i = 0; i < n; i++) {
    const bg = [g.random(), g.random(), g.random()];
    const count = g.randint(lo, hi + 1);
    const shapes: ShapeSpec[] = [];
    for (let k = 0; k < count; k++) {
      const r = s * (rLo + (rHi - rLo) * g.random());
      shapes.push({ cls: g.randint(0, nc), cx: r + (s - 2 * r) * g.random(), cy: r + (s - 2 * r) * g.random(), r, theta: 2 * Math.PI * g.random(), color: contrastingColor(g, bg) });
    }
    renderShapes(x, i, s, bg, noise, shapes, g);
    const base = i * s * s;
    for (const sh of shapes) {
      const v = shapeVertices(sh);
      const [x0, y0, x1, y1] = shapeBox(sh);
      for (let py = Math.max(0, Math.floor(y0)); py < Math.min(s, Math.ceil(y1)); py++) {
        for (let px = Math.max(0, Math.floor(x0)); px < Math.min(s, Math.ceil(x1)); px++) {
          if (covers(sh, v, px + 0.5, py + 0.5)) masks[base + py * s + px] = sh.cls + 1;
        }
      }
    }
  }
  return {
    x: tensor(x, { shape: [n, 3, s, s] }),
    masks: tensor(masks, { dtype: 'int32', shape: [n, s, s] }),
    classes: ['background', ...DETECTION_CLASSES.slice(0, nc)],
  };
}
