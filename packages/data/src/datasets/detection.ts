/**
 * Generated detection data: several coloured shapes (circle, square, triangle, optionally star)
 * per image on a noisy background, with their exact boxes and classes. Also the shape renderer
 * used by `localizationShapes` and `shapeLandmarks`.
 */
import { Generator, tensor, type Tensor } from '@kiln/tensor';
import { checkGeneratorArgs } from './shapes.js';

export const DETECTION_CLASSES = ['circle', 'square', 'triangle', 'star'] as const;

/** @internal One shape in pixel coordinates: a circle (verts null) or a polygon. */
export interface ShapeSpec { cls: number; cx: number; cy: number; r: number; theta: number; color: number[] }

/** @internal Pixel-space vertices of a polygon shape (null for a circle); corners first for the star. */
export function shapeVertices(s: ShapeSpec): number[] | null {
  if (s.cls === 0) return null;
  const n = s.cls === 1 ? 4 : s.cls === 2 ? 3 : 10;
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    const rr = s.cls === 3 && i % 2 === 1 ? 0.45 * s.r : s.r;
    const a = s.theta + (2 * Math.PI * i) / n;
    v.push(s.cx + rr * Math.cos(a), s.cy + rr * Math.sin(a));
  }
  return v;
}

/** @internal Tight xyxy box of a shape (pixel (px, py) covers [px, px + 1) × [py, py + 1)). */
export function shapeBox(s: ShapeSpec): [number, number, number, number] {
  const v = shapeVertices(s);
  if (!v) return [s.cx - s.r, s.cy - s.r, s.cx + s.r, s.cy + s.r];
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < v.length; i += 2) {
    x0 = Math.min(x0, v[i]!); x1 = Math.max(x1, v[i]!); y0 = Math.min(y0, v[i + 1]!); y1 = Math.max(y1, v[i + 1]!);
  }
  return [x0, y0, x1, y1];
}

function inside(v: readonly number[] | null, s: ShapeSpec, x: number, y: number): boolean {
  if (!v) return (x - s.cx) ** 2 + (y - s.cy) ** 2 <= s.r * s.r;
  let ins = false;
  const k = v.length / 2;
  for (let i = 0, j = k - 1; i < k; j = i++) {
    const xi = v[2 * i]!, yi = v[2 * i + 1]!, xj = v[2 * j]!, yj = v[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) ins = !ins;
  }
  return ins;
}

/** @internal A random colour at least 0.45 (RGB distance) from `bg`. */
export function contrastingColor(g: Generator, bg: readonly number[]): number[] {
  let c: number[];
  do c = [g.random(), g.random(), g.random()];
  while (Math.hypot(c[0]! - bg[0]!, c[1]! - bg[1]!, c[2]! - bg[2]!) < 0.45);
  return c;
}

/** @internal Renders `shapes` (in order, later ones on top) into image `i` of `x` [N, 3, s, s], 3×3 supersampled. */
export function renderShapes(x: Float32Array, i: number, s: number, bg: readonly number[], noise: number, shapes: readonly ShapeSpec[], g: Generator): void {
  const plane = s * s, base = i * 3 * plane, sub = 3;
  for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) x[base + c * plane + p] = bg[c]! + noise * g.normal();
  for (const sh of shapes) {
    const v = shapeVertices(sh);
    const [bx0, by0, bx1, by1] = shapeBox(sh);
    for (let py = Math.max(0, Math.floor(by0)); py < Math.min(s, Math.ceil(by1)); py++) {
      for (let px = Math.max(0, Math.floor(bx0)); px < Math.min(s, Math.ceil(bx1)); px++) {
        let hits = 0;
        for (let sy = 0; sy < sub; sy++) for (let sx = 0; sx < sub; sx++) if (inside(v, sh, px + (sx + 0.5) / sub, py + (sy + 0.5) / sub)) hits++;
        const a = hits / (sub * sub);
        if (a === 0) continue;
        for (let c = 0; c < 3; c++) {
          const k = base + c * plane + py * s + px;
          x[k] = (1 - a) * x[k]! + a * sh.color[c]!;
        }
      }
    }
  }
  for (let p = base; p < base + 3 * plane; p++) x[p] = Math.min(1, Math.max(0, x[p]!));
}

function iou(a: readonly number[], b: readonly number[]): number {
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!)), h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = w * h;
  return inter / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}

export interface DetectionShapesOptions {
  /** Image side in pixels (default 32). */
  size?: number;
  seed?: number;
  /** Per-pixel background noise standard deviation (default 0.05). */
  noise?: number;
  /** Objects per image, uniform in [minObjects, maxObjects] (defaults 1 and 3). */
  minObjects?: number;
  maxObjects?: number;
  /** Shape circumradius range as fractions of the image side (defaults 0.12 and 0.25). */
  minRadius?: number;
  maxRadius?: number;
  /** Largest IoU allowed between two objects' boxes (default 0.3: overlaps happen, none hides another). */
  maxOverlap?: number;
  /** Number of classes, the first of DETECTION_CLASSES (default 3: circle, square, triangle). */
  numClasses?: number;
}

export interface DetectionSet {
  /** Images [N, 3, size, size] float32 in [0, 1]. */
  x: Tensor;
  /** Per image: xyxy pixel boxes [k, 4] float32. */
  boxes: Tensor[];
  /** Per image: class ids [k] int32. */
  labels: Tensor[];
  classes: readonly string[];
}

/**
 * Seeded multi-object detection set: each image holds minObjects…maxObjects shapes of random
 * class, colour, size, position and rotation, wholly inside the image; boxes may overlap up to
 * `maxOverlap` IoU (later shapes are drawn on top). Boxes are the shapes' exact extents.
 */
export function detectionShapes(n: number, options: DetectionShapesOptions = {}): DetectionSet {
  checkGeneratorArgs('detectionShapes', n, options, {
    size: { min: 12, max: 512, integer: true }, seed: { min: 0, max: 2 ** 32, integer: true }, noise: { min: 0, max: 1 },
    minObjects: { min: 0, max: 20, integer: true }, maxObjects: { min: 1, max: 20, integer: true },
    minRadius: { min: 0.02, max: 0.5 }, maxRadius: { min: 0.02, max: 0.5 }, maxOverlap: { min: 0, max: 1 }, numClasses: { min: 1, max: 4, integer: true },
  });
  const s = options.size ?? 32, noise = options.noise ?? 0.05;
  const lo = options.minObjects ?? 1, hi = options.maxObjects ?? 3;
  const rLo = options.minRadius ?? 0.12, rHi = options.maxRadius ?? 0.25, maxOverlap = options.maxOverlap ?? 0.3, nc = options.numClasses ?? 3;
  if (lo > hi) throw new Error(`Kiln: detectionShapes: minObjects (${lo}) must be <= maxObjects (${hi})`);
  if (rLo > rHi) throw new Error(`Kiln: detectionShapes: minRadius (${rLo}) must be <= maxRadius (${rHi})`);
  const g = new Generator(options.seed ?? 0);
  const x = new Float32Array(n * 3 * s * s);
  const boxes: Tensor[] = [], labels: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    const bg = [g.random(), g.random(), g.random()];
    const count = g.randint(lo, hi + 1);
    const shapes: ShapeSpec[] = [], bx: number[][] = [];
    for (let attempt = 0; shapes.length < count && attempt < 100; attempt++) {
      const r = s * (rLo + (rHi - rLo) * g.random());
      const sh: ShapeSpec = { cls: g.randint(0, nc), cx: r + (s - 2 * r) * g.random(), cy: r + (s - 2 * r) * g.random(), r, theta: 2 * Math.PI * g.random(), color: contrastingColor(g, bg) };
      const b = shapeBox(sh);
      if (bx.some((o) => iou(o, b) > maxOverlap)) continue;
      shapes.push(sh);
      bx.push(b);
    }
    // the 100 tries are a bound, not a licence to return fewer objects than minObjects asks for
    if (shapes.length < lo) {
      throw new Error(`Kiln: detectionShapes: could place only ${shapes.length} of minObjects ${lo} shapes in image ${i} within maxOverlap ${maxOverlap} (100 tries); lower minObjects or maxRadius (${rHi}), or raise maxOverlap`);
    }
    renderShapes(x, i, s, bg, noise, shapes, g);
    boxes.push(tensor(Float32Array.from(bx.flat()), { shape: [bx.length, 4] }));
    labels.push(tensor(Int32Array.from(shapes.map((sh) => sh.cls)), { dtype: 'int32', shape: [shapes.length] }));
  }
  return { x: tensor(x, { shape: [n, 3, s, s] }), boxes, labels, classes: DETECTION_CLASSES.slice(0, nc) };
}
