import { Generator, tensor } from '@kiln/tensor';
import { checkGeneratorArgs, type LabelledSet } from './shapes.js';

export const CLIP_CLASSES = ['move-right', 'move-left', 'rotate-cw', 'rotate-ccw'] as const;

export interface MovingShapesOptions {
  /** Frames per clip (default 8). */
  frames?: number;
  /** Frame side in pixels (default 16). */
  size?: number;
  seed?: number;
  /** Standard deviation of the per-voxel noise (default 0.1). */
  noise?: number;
}

/**
 * Seeded short grey-level clips for 3-D CNNs: x [N, 1, frames, size, size] float32 (a volume
 * per clip: time × height × width), y [N] int32 (label i is i mod 4):
 * - 0 `move-right` / 1 `move-left`: a filled square drifting horizontally (1–1.5 px a frame)
 *   with a slight random vertical drift;
 * - 2 `rotate-cw` / 3 `rotate-ccw`: a bar through a random centre turning by 12–22° a frame
 *   (clockwise on screen, where y points down, for class 2).
 * Starting positions, angles, brightness and noise are random, so a single frame does not
 * tell the direction: the class is in the motion.
 */
export function movingShapes(n: number, options: MovingShapesOptions = {}): LabelledSet {
  checkGeneratorArgs('movingShapes', n, options, {
    frames: { min: 2, max: 256, integer: true }, size: { min: 8, max: 256, integer: true }, seed: { min: 0, max: 2 ** 32, integer: true }, noise: { min: 0, max: 1 },
  });
  const T = options.frames ?? 8, s = options.size ?? 16, noise = options.noise ?? 0.1;
  const g = new Generator(options.seed ?? 0);
  const vol = T * s * s;
  const x = new Float32Array(n * vol), y = new Int32Array(n);
  const u = (lo: number, hi: number): number => lo + (hi - lo) * g.random();
  for (let i = 0; i < n; i++) {
    const label = i % 4;
    y[i] = label;
    const bright = u(0.6, 1), bg = u(0, 0.25);
    const half = u(0.12, 0.18) * s;
    const speed = u(1, 1.5) * (label === 0 ? 1 : -1), drift = u(-0.3, 0.3);
    const travel = Math.abs(speed) * (T - 1);
    // a start that keeps the whole path inside the frame
    const x0 = label === 0 ? u(half, s - half - travel) : u(half + travel, s - half);
    const y0 = u(half + 0.3 * T, s - half - 0.3 * T);
    const cx = u(0.4 * s, 0.6 * s), cy = u(0.4 * s, 0.6 * s), a0 = u(0, Math.PI);
    const omega = ((u(12, 22) * Math.PI) / 180) * (label === 2 ? 1 : -1);
    const barHalfLen = 0.38 * s, barHalfWidth = 0.09 * s + 0.5;
    for (let t = 0; t < T; t++) {
      const sx = x0 + speed * t, sy = y0 + drift * t;
      const ang = a0 + omega * t, ca = Math.cos(ang), sa = Math.sin(ang);
      for (let py = 0; py < s; py++) {
        for (let px = 0; px < s; px++) {
          const qx = px + 0.5, qy = py + 0.5;
          let on: boolean;
          if (label < 2) on = Math.abs(qx - sx) <= half && Math.abs(qy - sy) <= half;
          else {
            const along = (qx - cx) * ca + (qy - cy) * sa, across = -(qx - cx) * sa + (qy - cy) * ca;
            on = Math.abs(along) <= barHalfLen && Math.abs(across) <= barHalfWidth;
          }
          x[i * vol + t * s * s + py * s + px] = (on ? bright : bg) + noise * g.normal();
        }
      }
    }
  }
  return { x: tensor(x, { shape: [n, 1, T, s, s] }), y: tensor(y, { dtype: 'int32' }), classes: CLIP_CLASSES };
}
