import { checkOptions, Generator, tensor, type Tensor } from '@kiln/tensor';

/** A generated labelled set: inputs, int32 labels and the class names (label i is `classes[i]`). */
export interface LabelledSet {
  x: Tensor;
  y: Tensor;
  classes: readonly string[];
}

/** @internal Validates a generator's `n` and option object (unknown keys, non-finite or out-of-range numbers). */
export function checkGeneratorArgs(
  op: string, n: number, options: object, allowed: Record<string, { min: number; max: number; integer?: boolean }>,
): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`Kiln: ${op}: n must be a positive integer, got ${n}`);
  checkOptions(op, options, Object.fromEntries(Object.entries(allowed).map(([k, rule]) => [k, (v: unknown) => (
    typeof v === 'number' && Number.isFinite(v) && v >= rule.min && v <= rule.max && (!rule.integer || Number.isInteger(v))
      ? null : `${rule.integer ? 'an integer' : 'a number'} in [${rule.min}, ${rule.max}]`)])));
}

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star'] as const;

export interface ColorShapesOptions {
  /** Image side in pixels (default 32; 64 is the other usual size). */
  size?: number;
  seed?: number;
  /** Standard deviation of the per-pixel background noise (default 0.08). */
  noise?: number;
}

/** Vertices of a regular polygon (or a star when `inner` is given) with circumradius 1, rotated by `theta`. */
function polygon(points: number, theta: number, inner?: number): number[] {
  const v: number[] = [];
  const count = inner === undefined ? points : 2 * points;
  for (let i = 0; i < count; i++) {
    const r = inner !== undefined && i % 2 === 1 ? inner : 1;
    const a = theta + (2 * Math.PI * i) / count;
    v.push(r * Math.cos(a), r * Math.sin(a));
  }
  return v;
}

/** Even–odd rule: works for the (non-convex) star as well as the convex shapes. */
function insidePolygon(v: readonly number[], x: number, y: number): boolean {
  let inside = false;
  const k = v.length / 2;
  for (let i = 0, j = k - 1; i < k; j = i++) {
    const xi = v[2 * i]!, yi = v[2 * i + 1]!, xj = v[2 * j]!, yj = v[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Seeded colour shapes: circles, squares, triangles and five-pointed stars of random colour,
 * size and position, upright within ±15°, on a noisy background of another, darker random colour (lower HSV value). Returns
 * x [N, 3, size, size] float32 in [0, 1] and y [N] int32 (0 circle, 1 square, 2 triangle,
 * 3 star; label i is i mod 4, so every prefix is balanced). Edges are anti-aliased by 3×3
 * supersampling; the shape's colour differs from the background by at least 0.45 in RGB distance
 * and is the brighter of the two in HSV value (random polarity as well made 32×32 shapes too slow to learn for
 * CPU-sized tests: small ResNets sat at chance for hundreds of steps).
 */
export function colorShapes(n: number, options: ColorShapesOptions = {}): LabelledSet {
  checkGeneratorArgs('colorShapes', n, options, { size: { min: 12, max: 512, integer: true }, seed: { min: 0, max: 2 ** 32, integer: true }, noise: { min: 0, max: 1 } });
  const s = options.size ?? 32, noise = options.noise ?? 0.08;
  const g = new Generator(options.seed ?? 0);
  const x = new Float32Array(n * 3 * s * s), y = new Int32Array(n);
  const plane = s * s, sub = 3;
  for (let i = 0; i < n; i++) {
    const label = i % 4;
    y[i] = label;
    // random colours, the shape the brighter one: background channels in [0, 0.45], some shape channel >= 0.6
    const bg = [0.45 * g.random(), 0.45 * g.random(), 0.45 * g.random()];
    let fg: number[];
    do fg = [g.random(), g.random(), g.random()];
    while (Math.max(fg[0]!, fg[1]!, fg[2]!) < 0.6 || Math.hypot(fg[0]! - bg[0]!, fg[1]! - bg[1]!, fg[2]! - bg[2]!) < 0.45);
    const r = s * (0.26 + 0.16 * g.random());
    const cx = r + (s - 2 * r) * g.random(), cy = r + (s - 2 * r) * g.random();
    // upright (square axis-aligned, triangle and star pointing up), turned by up to ±15°
    const tilt = (g.random() - 0.5) * (Math.PI / 6);
    const verts = label === 1 ? polygon(4, Math.PI / 4 + tilt) : label === 2 ? polygon(3, -Math.PI / 2 + tilt) : label === 3 ? polygon(5, -Math.PI / 2 + tilt, 0.45) : null;
    const base = i * 3 * plane;
    for (let py = 0; py < s; py++) {
      for (let px = 0; px < s; px++) {
        let hits = 0;
        for (let sy = 0; sy < sub; sy++) {
          for (let sx = 0; sx < sub; sx++) {
            const u = (px + (sx + 0.5) / sub - cx) / r, v = (py + (sy + 0.5) / sub - cy) / r;
            if (verts ? insidePolygon(verts, u, v) : u * u + v * v <= 0.8 * 0.8) hits++;
          }
        }
        const a = hits / (sub * sub);
        for (let c = 0; c < 3; c++) {
          const val = (1 - a) * (bg[c]! + noise * g.normal()) + a * fg[c]!;
          x[base + c * plane + py * s + px] = Math.min(1, Math.max(0, val));
        }
      }
    }
  }
  return { x: tensor(x, { shape: [n, 3, s, s] }), y: tensor(y, { dtype: 'int32' }), classes: SHAPE_CLASSES };
}
