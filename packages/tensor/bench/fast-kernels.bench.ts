/**
 * Micro-benchmark: the fast TypeScript kernels (backends/wasm/fast) against the reference kernels
 * on the shapes of the MLP (784-256-128-10, batch 64) and LeNet-5 (batch 64) training steps.
 * Not a unit test. Run from packages/tensor:
 *
 *   npx vitest bench --run bench/fast-kernels.bench.ts
 *
 * Each group benches `reference` then `fast` on the same float32 inputs; vitest prints the
 * per-run statistics (median included) and, per group, how many times faster `fast` is.
 */
import { bench, describe } from 'vitest';
import type { Kernels, WindowGeometry } from '../src/backend.js';
import type { TypedArray } from '../src/dtype.js';
import { fastKernels } from '../src/backends/wasm/fast/index.js';
import { referenceKernels } from '../src/backends/reference/index.js';

const fast = fastKernels as Kernels;
const ref = referenceKernels;
const OPTIONS = { time: 400, warmupTime: 100 };

/** Uniform in [-1, 1) from xorshift32: random signs, so sign-dependent branches mispredict as in training. */
function random(n: number, seed = 1): Float32Array {
  let s = seed;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = (s >>> 0) / 2147483648 - 1;
  }
  return a;
}

/** Registers `reference` and `fast` benches of one workload. */
function pair(title: string, run: (k: Kernels) => void): void {
  describe(title, () => {
    bench('reference', () => run(ref), OPTIONS);
    bench('fast', () => run(fast), OPTIONS);
  });
}

function geometry(batch: number, channels: number, size: number, k: number, stride: number, pad: number): WindowGeometry {
  const out = Math.floor((size + 2 * pad - k) / stride) + 1;
  return {
    batch, channels, inSize: [size, size], kernel: [k, k], stride: [stride, stride], padBegin: [pad, pad], padEnd: [pad, pad],
    dilation: [1, 1], outSize: [out, out],
  };
}

const planes = (g: WindowGeometry): number => g.batch * g.channels;
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

// MLP hidden layer: [64, 256] activations, [256] bias.
const h = random(64 * 256, 1);
const h2 = random(64 * 256, 2);
const bias = random(256, 3);
const hOut = new Float32Array(64 * 256);
const mask = new Uint8Array(64 * 256);
const row = new Float32Array(256);
const logits = random(64 * 10, 4);
const perRow = new Float32Array(64);
const argOut = new Int32Array(64);

pair('add [64,256] + [256] (bias)', (k) => k.binary('add', h, [64, 256], bias, [256], hOut, [64, 256]));
pair('mul [64,256] * [64,256]', (k) => k.binary('mul', h, [64, 256], h2, [64, 256], hOut, [64, 256]));
pair('mul [64,256] * scalar', (k) => k.binary('mul', h, [64, 256], bias.subarray(0, 1), [], hOut, [64, 256]));
pair('gt [64,256] > scalar (relu mask)', (k) => k.binary('gt', h, [64, 256], bias.subarray(0, 1), [], mask, [64, 256]));
pair('where [64,256] mask ? dy : 0', (k) => k.where(mask, [64, 256], h, [64, 256], row.subarray(0, 1), [], hOut, [64, 256]));
pair('relu [64,256]', (k) => k.unary('relu', h, hOut, 0, 0));
pair('sigmoid [64,256]', (k) => k.unary('sigmoid', h, hOut, 0, 0));
pair('sum [64,256] over batch → [1,256]', (k) => k.reduce('sum', h, [64, 256], [0], row));
pair('sum [64,256] all', (k) => k.reduce('sum', h, [64, 256], [0, 1], row.subarray(0, 1)));
pair('max [64,10] over classes', (k) => k.reduce('max', logits, [64, 10], [1], perRow));
pair('argmax [64,10] over classes', (k) => k.argReduce('argmax', logits, [64, 10], 1, argOut));

// Weight transpose [784,256] → [256,784] and a batch slice.
const w = random(784 * 256, 5);
const wT = new Float32Array(784 * 256);
pair('stridedCopy transpose [784,256]', (k) => k.stridedCopy(w, 0, [256, 784], [1, 256], wT));
pair('stridedCopy rows slice [32,784] of [64,784]', (k) => k.stridedCopy(w, 784 * 8, [32, 784], [784, 1], wT.subarray(0, 32 * 784)));
const gradW = new Float32Array(784 * 256);
pair('stridedAccumulate transpose [784,256]', (k) => k.stridedAccumulate(w, gradW, 0, [256, 784], [1, 256]));

// Embedding lookup: 64 rows of a [1000, 64] table; cross-entropy pick [64,10] → [64,1].
const table = random(1000 * 64, 6);
const ids = new Int32Array(64).map((_, i) => (i * 37) % 1000);
const emb = new Float32Array(64 * 64);
pair('indexSelect [1000,64] rows ×64', (k) => k.indexSelect(table, [1000, 64], 0, ids, emb));
const labels = new Int32Array(64).map((_, i) => i % 10);
pair('gather [64,10] dim 1 → [64,1]', (k) => k.gather(logits, [64, 10], 1, labels, [64, 1], perRow));

// Convolution bias (ops/conv.ts): in-place add of [1,C,1] to [N,C,L], and its gradient sum over axes 0 and 2.
for (const [c, l] of [[6, 784], [16, 100]] as const) {
  const y = random(64 * c * l, 10);
  const cb = random(c, 11);
  const db = new Float32Array(c);
  pair(`add [64,${c},${l}] += [1,${c},1] (conv bias)`, (k) => k.binary('add', y, [64, c, l], cb, [1, c, 1], y, [64, c, l]));
  pair(`sum [64,${c},${l}] over axes 0,2 (conv bias grad)`, (k) => k.reduce('sum', y, [64, c, l], [0, 2], db));
}

// LeNet-5: conv1 5×5 pad 2 on 64×1×28×28, conv2 5×5 on 64×6×14×14, 2×2 pools.
for (const g of [geometry(64, 1, 28, 5, 1, 2), geometry(64, 6, 14, 5, 1, 0)]) {
  const x = random(planes(g) * size(g.inSize), 7);
  const cols = new Float32Array(planes(g) * size(g.kernel) * size(g.outSize));
  const name = `${g.batch}×${g.channels}×${g.inSize[0]}² k5 p${g.padBegin[0]}`;
  pair(`im2col ${name}`, (k) => k.im2col(x, g, cols));
  const colsIn = random(cols.length, 8);
  const dx = new Float32Array(x.length);
  pair(`col2im ${name}`, (k) => {
    dx.fill(0);
    k.col2im(colsIn, g, dx);
  });
}
for (const g of [geometry(64, 6, 28, 2, 2, 0), geometry(64, 16, 10, 2, 2, 0)]) {
  const x = random(planes(g) * size(g.inSize), 9);
  const y = new Float32Array(planes(g) * size(g.outSize));
  const idx = new Int32Array(y.length);
  const dx = new Float32Array(x.length);
  const name = `${g.batch}×${g.channels}×${g.inSize[0]}² 2×2`;
  pair(`maxPool ${name}`, (k) => k.maxPool(x, g, y, idx));
  pair(`avgPool ${name}`, (k) => k.avgPool(x, g, true, y));
  pair(`avgPoolBackward ${name}`, (k) => {
    dx.fill(0);
    k.avgPoolBackward(y, g, true, dx);
  });
}

// Keep results observable so no engine can drop the work.
export const sink: TypedArray[] = [hOut, mask, row, perRow, argOut, wT, gradW, emb];
