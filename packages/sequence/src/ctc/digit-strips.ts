/**
 * Digit strips for CTC: 3–6 handwritten digits side by side on one canvas, labelled with the
 * digit string only (no positions) — the task CTC exists for. Digits come from a pool the caller
 * gives (e.g. MNIST from @kiln/data, split into training and held-out digits, so held-out strips
 * are made of digits never seen in training). Seeded: the same options give the same strips.
 */
import { checkOptions, Generator, Tensor } from '@kiln/tensor';

export interface DigitStripOptions {
  /** Strips to make. */
  count: number;
  /** Digits per strip, drawn uniformly from minDigits..maxDigits (defaults 3 and 6). */
  minDigits?: number;
  maxDigits?: number;
  /** Side of the square digits on the strip: 28 divided by an integer (default 14, 2×2 averages). */
  digitSize?: number;
  /** Pixels between neighbouring digit boxes, drawn from gap[0]..gap[1]; negative overlaps them (default [-2, 2]). */
  gap?: readonly [number, number];
  /** Canvas height, at least digitSize; digits are centred vertically (default digitSize). */
  height?: number;
  /** Canvas width (default: wide enough for maxDigits digits at the widest gap). */
  width?: number;
  /** Seed of the draws (default 0). */
  seed?: number;
}

export interface DigitStrips {
  /** `[count, 1, height, width]` in [0, 1]; ink where digits overlap is the max of both. */
  images: Tensor;
  /** The digit strings. */
  digits: number[][];
  /** `[count, maxDigits]` int32 CTC targets: digit d is class d + 1 (class 0 is the blank), padded with 0. */
  targets: Tensor;
  /** Digits per strip (the CTC target lengths). */
  targetLengths: number[];
  /** Columns from the left edge to the end of the last digit's box. */
  widths: number[];
}

/** CTC class of digit d (0 is the blank). */
export const digitClass = (d: number): number => d + 1;

/**
 * Builds strips from `pool` (`[M, 1, 28, 28]` or `[M, 784]` digits in [0, 1]) and its int32
 * labels `[M]`: each strip draws its digits at random from the pool, places them left to right
 * with random gaps from a random left margin, on a blank canvas.
 */
export function makeDigitStrips(pool: Tensor, labels: Tensor, options: DigitStripOptions): DigitStrips {
  const fn = 'makeDigitStrips';
  checkOptions(fn, options, {
    count: 'posint', minDigits: 'posint', maxDigits: 'posint', digitSize: 'posint', height: 'posint', width: 'posint', seed: 'finite',
    gap: (v) => (Array.isArray(v) && v.length === 2 && v.every(Number.isInteger) && v[0] <= v[1] ? null : 'a pair of integers [min, max]'),
  });
  if (!(pool instanceof Tensor) || pool.numel() % 784 !== 0 || pool.numel() === 0) {
    throw new Error(`Kiln: ${fn}: pool must be a non-empty Tensor of 28×28 digits ([M, 1, 28, 28] or [M, 784]), got ${pool instanceof Tensor ? `[${pool.shape.join(',')}]` : typeof pool}`);
  }
  const M = pool.numel() / 784;
  if (!(labels instanceof Tensor) || labels.dtype !== 'int32' || labels.numel() !== M) {
    throw new Error(`Kiln: ${fn}: labels must be an int32 Tensor of ${M} digits (one per pool image), got ${labels instanceof Tensor ? `${labels.dtype} [${labels.shape.join(',')}]` : typeof labels}`);
  }
  const minD = options.minDigits ?? 3;
  const maxD = options.maxDigits ?? 6;
  if (minD > maxD) throw new Error(`Kiln: ${fn}: minDigits = ${minD} exceeds maxDigits = ${maxD}`);
  const size = options.digitSize ?? 14;
  if (28 % size !== 0) throw new Error(`Kiln: ${fn}: digitSize must divide 28 (28, 14, 7, 4, 2, 1), got ${size}`);
  const Hc = options.height ?? size;
  if (Hc < size) throw new Error(`Kiln: ${fn}: height = ${Hc} is less than digitSize = ${size}`);
  const top = Math.floor((Hc - size) / 2);
  const [g0, g1] = options.gap ?? [-2, 2];
  const W = options.width ?? maxD * size + (maxD - 1) * Math.max(g1, 0);
  if (maxD * size + (maxD - 1) * g0 > W) throw new Error(`Kiln: ${fn}: width = ${W} cannot hold ${maxD} digits of ${size} px at gap ${g0}`);
  const f = 28 / size;
  const src = pool.dataSync();
  const lab = labels.dataSync();
  // Downsampled pool (f×f block means), computed once.
  const small = new Float32Array(M * size * size);
  for (let m = 0; m < M; m++) {
    for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) {
      let s = 0;
      for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) s += src[m * 784 + (r * f + i) * 28 + c * f + j]!;
      small[(m * size + r) * size + c] = s / (f * f);
    }
  }
  const g = new Generator(options.seed ?? 0);
  const N = options.count;
  const images = new Float32Array(N * Hc * W);
  const targets = new Int32Array(N * maxD);
  const digits: number[][] = [];
  const widths: number[] = [];
  for (let n = 0; n < N; n++) {
    const L = g.randint(minD, maxD + 1);
    const picks = Array.from({ length: L }, () => g.randint(0, M));
    const gaps = Array.from({ length: L - 1 }, () => g.randint(g0, g1 + 1));
    const content = L * size + gaps.reduce((a, b) => a + b, 0);
    let x = g.randint(0, W - content + 1);
    picks.forEach((m, k) => {
      for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) {
        const i = (n * Hc + top + r) * W + x + c;
        images[i] = Math.max(images[i]!, small[(m * size + r) * size + c]!);
      }
      x += size + (gaps[k] ?? 0);
    });
    const ds = picks.map((m) => lab[m]!);
    ds.forEach((d, k) => { targets[n * maxD + k] = digitClass(d); });
    digits.push(ds);
    widths.push(x);
  }
  return {
    images: new Tensor(images, [N, 1, Hc, W], 'float32'),
    digits,
    targets: new Tensor(targets, [N, maxD], 'int32'),
    targetLengths: digits.map((d) => d.length),
    widths,
  };
}
