import { Tensor, tensor, Generator, checkOptions } from '@kiln/tensor';

/** A synthetic 2-D classification set: X [N, 2] float32, y [N] int32. */
export interface Points { x: Tensor; y: Tensor }

function pack(xs: number[], ys: number[]): Points {
  return { x: tensor(Float32Array.from(xs), { shape: [ys.length, 2] }), y: tensor(Int32Array.from(ys), { dtype: 'int32' }) };
}

function checkN(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 2) throw new Error(`Kiln: ${op}: n must be an integer >= 2, got ${n}`);
}

/** The course's planar "flower": two classes on the petals of r = a·sin(4θ), with noise. */
export function planarFlower(n = 400, options: { seed?: number; noise?: number } = {}): Points {
  checkN('planarFlower', n);
  checkOptions('planarFlower', options, { seed: 'finite', noise: 'number' });
  const g = new Generator(options.seed ?? 1), noise = options.noise ?? 0.2;
  const per = Math.floor(n / 2), a = 4, xs: number[] = [], ys: number[] = [];
  for (let j = 0; j < 2; j++) {
    for (let i = 0; i < per; i++) {
      const t = j * 3.12 + (3.12 * i) / (per - 1) + g.normal() * noise;
      const r = a * Math.sin(4 * t) + g.normal() * noise;
      xs.push(r * Math.sin(t), r * Math.cos(t));
      ys.push(j);
    }
  }
  return pack(xs, ys);
}

/** Two interleaving half circles. */
export function moons(n = 200, options: { seed?: number; noise?: number } = {}): Points {
  checkN('moons', n);
  checkOptions('moons', options, { seed: 'finite', noise: 'number' });
  const g = new Generator(options.seed ?? 1), noise = options.noise ?? 0.1, xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2, t = Math.PI * g.random();
    const px = c === 0 ? Math.cos(t) : 1 - Math.cos(t), py = c === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    xs.push(px + g.normal() * noise, py + g.normal() * noise);
    ys.push(c);
  }
  return pack(xs, ys);
}

/** A small circle (class 1) inside a large one (class 0). */
export function circles(n = 200, options: { seed?: number; noise?: number; factor?: number } = {}): Points {
  checkN('circles', n);
  checkOptions('circles', options, { seed: 'finite', noise: 'number', factor: 'number' });
  const g = new Generator(options.seed ?? 1), noise = options.noise ?? 0.05, factor = options.factor ?? 0.5, xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2, t = 2 * Math.PI * g.random(), r = c === 1 ? factor : 1;
    xs.push(r * Math.cos(t) + g.normal() * noise, r * Math.sin(t) + g.normal() * noise);
    ys.push(c);
  }
  return pack(xs, ys);
}

/** `classes` interleaved spiral arms (CS231n's spiral data). */
export function spirals(n = 300, options: { seed?: number; noise?: number; classes?: number } = {}): Points {
  checkN('spirals', n);
  checkOptions('spirals', options, { seed: 'finite', noise: 'number', classes: 'posint' });
  const g = new Generator(options.seed ?? 1), noise = options.noise ?? 0.2, k = options.classes ?? 3;
  const per = Math.floor(n / k), xs: number[] = [], ys: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < per; i++) {
      const r = i / Math.max(1, per - 1), t = c * 4 + 4 * r + g.normal() * noise;
      xs.push(r * Math.sin(t), r * Math.cos(t));
      ys.push(c);
    }
  }
  return pack(xs, ys);
}
