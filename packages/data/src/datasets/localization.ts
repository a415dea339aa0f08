/**
 * Generated single-object data for classification with localisation and for landmark
 * regression (deeplearning.ai course 4, 4.3.1.1–2): one shape per image (or none).
 */
import { Generator, tensor, type Tensor } from '@kiln/tensor';
import { checkGeneratorArgs } from './shapes.js';
import { DETECTION_CLASSES, contrastingColor, renderShapes, shapeBox, shapeVertices, type ShapeSpec } from './detection.js';

export interface LocalizationShapesOptions {
  /** Image side in pixels (default 32). */
  size?: number;
  seed?: number;
  /** Background noise standard deviation (default 0.05). */
  noise?: number;
  /** Fraction of images with no object (pc = 0; default 0.25). */
  emptyFraction?: number;
  /** Number of classes, the first of DETECTION_CLASSES (default 3). */
  numClasses?: number;
}

export interface LocalizationSet {
  /** Images [N, 3, size, size] float32 in [0, 1]. */
  x: Tensor;
  /**
   * Targets [N, 5 + C] float32: [pc, bx, by, bh, bw, c1..cC] — pc = 1 when a shape is present,
   * (bx, by) its box centre and (bh, bw) its box height and width as fractions of the image side,
   * c one-hot class. When pc = 0 every other entry is 0 (and ignored by the loss).
   */
  y: Tensor;
  /** Class ids [N] int32, −1 for an empty image. */
  labels: Tensor;
  /** Pixel xyxy boxes [N, 4] float32 (zeros for an empty image). */
  boxes: Tensor;
  classes: readonly string[];
}

/** Seeded images holding zero or one shape, with the course's localisation target vector. */
export function localizationShapes(n: number, options: LocalizationShapesOptions = {}): LocalizationSet {
  checkGeneratorArgs('localizationShapes', n, options, {
    size: { min: 12, max: 512, integer: true }, seed: { min: 0, max: 2 ** 32, integer: true }, noise: { min: 0, max: 1 },
    emptyFraction: { min: 0, max: 1 }, numClasses: { min: 1, max: 4, integer: true },
  });
  const s = options.size ?? 32, noise = options.noise ?? 0.05, empty = options.emptyFraction ?? 0.25, nc = options.numClasses ?? 3;
  const g = new Generator(options.seed ?? 0);
  const x = new Float32Array(n * 3 * s * s), y = new Float32Array(n * (5 + nc)), labels = new Int32Array(n), boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const bg = [g.random(), g.random(), g.random()];
    const shapes: ShapeSpec[] = [];
    labels[i] = -1;
    if (g.random() >= empty) {
      const r = s * (0.16 + 0.16 * g.random());
      const sh: ShapeSpec = { cls: g.randint(0, nc), cx: r + (s - 2 * r) * g.random(), cy: r + (s - 2 * r) * g.random(), r, theta: 2 * Math.PI * g.random(), color: contrastingColor(g, bg) };
      shapes.push(sh);
      const b = shapeBox(sh);
      boxes.set(b, 4 * i);
      labels[i] = sh.cls;
      y.set([1, (b[0] + b[2]) / 2 / s, (b[1] + b[3]) / 2 / s, (b[3] - b[1]) / s, (b[2] - b[0]) / s], i * (5 + nc));
      y[i * (5 + nc) + 5 + sh.cls] = 1;
    }
    renderShapes(x, i, s, bg, noise, shapes, g);
  }
  return {
    x: tensor(x, { shape: [n, 3, s, s] }), y: tensor(y, { shape: [n, 5 + nc] }),
    labels: tensor(labels, { dtype: 'int32', shape: [n] }), boxes: tensor(boxes, { shape: [n, 4] }), classes: DETECTION_CLASSES.slice(0, nc),
  };
}

export interface ShapeLandmarksOptions {
  size?: number;
  seed?: number;
  noise?: number;
  /** 3 (triangles) or 4 (squares; default): the number of landmarks K. */
  corners?: number;
}

export interface LandmarkSet {
  /** Images [N, 3, size, size] float32. */
  x: Tensor;
  /** Corner positions [N, K, 2] float32 as (x, y) fractions of the image side. */
  points: Tensor;
}

/**
 * Seeded images of one triangle or square each; the landmarks are its K corners. Rotations stay
 * within ±0.6 of half the shape's symmetry angle, so corner k is always the same corner
 * (k = 0 is the upper-right corner of the square / the top of the triangle, then clockwise
 * on screen) and the regression target is a continuous function of the image.
 */
export function shapeLandmarks(n: number, options: ShapeLandmarksOptions = {}): LandmarkSet {
  checkGeneratorArgs('shapeLandmarks', n, options, {
    size: { min: 12, max: 512, integer: true }, seed: { min: 0, max: 2 ** 32, integer: true }, noise: { min: 0, max: 1 }, corners: { min: 3, max: 4, integer: true },
  });
  const s = options.size ?? 32, noise = options.noise ?? 0.05, k = options.corners ?? 4;
  const g = new Generator(options.seed ?? 0);
  const x = new Float32Array(n * 3 * s * s), pts = new Float32Array(n * k * 2);
  const base = k === 4 ? -Math.PI / 4 : -Math.PI / 2, half = Math.PI / k;
  for (let i = 0; i < n; i++) {
    const bg = [g.random(), g.random(), g.random()];
    const r = s * (0.2 + 0.18 * g.random());
    const sh: ShapeSpec = { cls: k === 4 ? 1 : 2, cx: r + (s - 2 * r) * g.random(), cy: r + (s - 2 * r) * g.random(), r, theta: base + 0.6 * half * (2 * g.random() - 1), color: contrastingColor(g, bg) };
    const v = shapeVertices(sh)!;
    for (let j = 0; j < 2 * k; j++) pts[i * 2 * k + j] = v[j]! / s;
    renderShapes(x, i, s, bg, noise, [sh], g);
  }
  return { x: tensor(x, { shape: [n, 3, s, s] }), points: tensor(pts, { shape: [n, k, 2] }) };
}
