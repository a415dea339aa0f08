/**
 * The "train here" model and loop, shared by the Web Worker (train-worker.ts) and the Node test
 * that times the same steps: an MLP 784-128-10 trained with Adam on seeded mini-batches of the
 * bundled MNIST slice (pixels in [0, 1]).
 */
import { Tensor, manualSeed, noGrad, tensor } from '@kiln/tensor';
import { Sequential, Linear, ReLU, crossEntropy } from '@kiln/nn';
import { Adam } from '@kiln/optim';

export interface MnistSlice {
  trainX: Float32Array; trainY: Int32Array; testX: Float32Array; testY: Int32Array;
}

/** Decodes `mnist-slice.bin` (layout in vite.config.ts). */
export function decodeSlice(bytes: Uint8Array): MnistSlice {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nTrain = dv.getUint32(0, true), nTest = dv.getUint32(4, true), n = nTrain + nTest;
  if (bytes.length !== 8 + n * 785) throw new Error(`playground: mnist-slice.bin has ${bytes.length} bytes, expected ${8 + n * 785} for ${n} digits`);
  const labels = Int32Array.from(bytes.subarray(8, 8 + n));
  const px = new Float32Array(n * 784);
  for (let i = 0; i < px.length; i++) px[i] = bytes[8 + n + i]! / 255;
  return { trainX: px.subarray(0, nTrain * 784), trainY: labels.subarray(0, nTrain), testX: px.subarray(nTrain * 784), testY: labels.subarray(nTrain) };
}

export interface TrainOptions { steps: number; batchSize: number; lr: number; seed: number }
export const DEFAULT_TRAIN: TrainOptions = { steps: 60, batchSize: 64, lr: 3e-3, seed: 0 };

export function makeMlp(): Sequential {
  return new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
}

/** Seeded Fisher–Yates order (mulberry32), so the batches are the same on every runtime. */
function order(n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [idx[i], idx[j]] = [idx[j]!, idx[i]!]; }
  return idx;
}

export interface TrainResult { model: Sequential; losses: number[]; ms: number }

/** Trains the MLP; `onStep` sees every step's loss (the live curve). */
export async function trainMlp(data: MnistSlice, opts: TrainOptions = DEFAULT_TRAIN, onStep?: (step: number, loss: number) => void | Promise<void>): Promise<TrainResult> {
  manualSeed(opts.seed);
  const model = makeMlp();
  const optimizer = new Adam(model.parameters(), { lr: opts.lr });
  const n = data.trainY.length;
  let perm = order(n, opts.seed);
  let at = 0, epoch = 0;
  const losses: number[] = [];
  const xb = new Float32Array(opts.batchSize * 784), yb = new Int32Array(opts.batchSize);
  const t0 = performance.now();
  for (let step = 0; step < opts.steps; step++) {
    for (let b = 0; b < opts.batchSize; b++) {
      if (at === n) { perm = order(n, opts.seed + ++epoch); at = 0; }
      const i = perm[at++]!;
      xb.set(data.trainX.subarray(i * 784, (i + 1) * 784), b * 784);
      yb[b] = data.trainY[i]!;
    }
    const loss = crossEntropy(model.forward(tensor(xb, { shape: [opts.batchSize, 784] })) as Tensor, tensor(yb, { dtype: 'int32' }));
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    const v = loss.item();
    losses.push(v);
    await onStep?.(step, v);
  }
  return { model, losses, ms: performance.now() - t0 };
}

/** Kiln's logits of the MLP over digits (n×784). */
export function predict(model: Sequential, x: Float32Array): Float32Array {
  return noGrad(() => (model.forward(tensor(x, { shape: [x.length / 784, 784] })) as Tensor).dataSync() as Float32Array);
}

export function accuracy(logits: ArrayLike<number>, labels: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (logits[i * 10 + k]! > logits[i * 10 + best]!) best = k;
    if (best === labels[i]) ok++;
  }
  return ok / labels.length;
}
