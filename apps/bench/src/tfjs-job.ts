// One TF.js job (backend 'cpu' or 'wasm', a workload, a thread count) in its own process, on the
// same workload definitions as the Kiln jobs and ../shared/bench-anchors/tfjs_bench.mjs.
// Threads: tfjs-cpu has none; tfjs-wasm at 1 thread is the stock single-threaded SIMD build
// (what a Node user gets), above 1 it needs tfjs-wasm-threads.ts.
import * as tf from '@tensorflow/tfjs';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { median, randomF32, randomInts, timeCalls, trainRates } from './common.js';
import { emit, parseJobSpec, runJob } from './job.js';
import { enableTfjsWasmThreads } from './tfjs-wasm-threads.js';

const spec = parseJobSpec(process.argv[2]);
const backend = spec.backend ?? 'wasm';
const anchor = (): string => `tfjs-${backend}`;
const out = (rec: { workload: string; metric: string; value: number; [k: string]: unknown }): void =>
  emit({ anchor: anchor(), threads: spec.threads, ...rec, tfjs: tf.version.tfjs });

async function setup(): Promise<void> {
  if (backend === 'wasm') {
    const threads = spec.threads > 1 ? enableTfjsWasmThreads(tf) : null;
    tfwasm.setThreadsCount(spec.threads);
    const ok = await tf.setBackend('wasm');
    threads?.done();
    if (!ok) throw new Error('tfjs: the wasm backend failed to initialise');
    const actual = tfwasm.getThreadsCount();
    if (actual !== spec.threads) throw new Error(`tfjs-wasm: asked for ${spec.threads} threads, the backend uses ${actual}`);
  } else if (backend === 'cpu') {
    if (spec.threads !== 1) throw new Error(`tfjs-cpu is single-threaded, asked for ${spec.threads} threads`);
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the cpu backend failed to initialise');
  } else {
    throw new Error(`tfjs: unknown backend '${backend}' (expected cpu or wasm)`);
  }
  await tf.ready();
}

function mlp(): tf.Sequential {
  return tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
    tf.layers.dense({ units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 10 }),
  ] });
}

/** LeNet-5 in NHWC, TF.js's layout: the same arithmetic as Kiln's NCHW model. */
function lenet5(): tf.Sequential {
  return tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'valid', activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 120, activation: 'relu' }),
    tf.layers.dense({ units: 84, activation: 'relu' }),
    tf.layers.dense({ units: 10 }),
  ] });
}

function sgemm(): void {
  for (const n of spec.sizes) {
    const a = tf.tensor2d(randomF32(n * n, 1), [n, n]);
    const b = tf.tensor2d(randomF32(n * n, 2), [n, n]);
    // Both backends run matMul synchronously; nothing is read back.
    const times = timeCalls(() => tf.matMul(a, b).dispose(), { warmup: 3, minReps: 5, minSeconds: 1, maxReps: 200 });
    const med = median(times);
    out({ workload: 'sgemm', n, metric: 'GFLOPS', value: (2 * n ** 3) / med / 1e9, median_ms: med * 1e3, reps: times.length });
    a.dispose();
    b.dispose();
  }
}

function train(kind: 'mlp' | 'lenet'): void {
  const batch = 64;
  const model = kind === 'mlp' ? mlp() : lenet5();
  const x = kind === 'mlp' ? tf.tensor2d(randomF32(batch * 784), [batch, 784]) : tf.tensor4d(randomF32(batch * 784), [batch, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(randomInts(batch, 10), 'int32'), 10);
  const opt = kind === 'mlp' ? tf.train.sgd(0.01) : tf.train.adam(1e-3);
  let cost: tf.Scalar | null = null;
  const step = (): void => {
    const c = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
    cost?.dispose();
    cost = c;
  };
  const rates = trainRates(step, batch, { seconds: spec.seconds, windows: spec.windows, warmupSeconds: spec.warmup });
  const last = cost as tf.Scalar | null;
  out({ workload: kind, metric: 'samples/s', value: median(rates), windows: rates, warmup_s: spec.warmup, final_loss: last?.dataSync()[0], tensors: tf.memory().numTensors });
}

function infer(): void {
  const model = lenet5();
  for (const batch of [1, 256]) {
    const x = tf.tensor4d(randomF32(batch * 784, 3), [batch, 28, 28, 1]);
    const fn = (): void => { const y = model.predict(x) as tf.Tensor; y.dataSync(); y.dispose(); };
    if (batch === 1) {
      const t = timeCalls(fn, { warmup: 50, minReps: 200, minSeconds: 1 });
      out({ workload: 'infer-b1', metric: 'ms', value: median(t) * 1e3, reps: t.length });
    } else {
      const t = timeCalls(fn, { warmup: 3, minReps: 10, minSeconds: 1 });
      out({ workload: 'infer-b256', metric: 'samples/s', value: batch / median(t), median_ms: median(t) * 1e3, reps: t.length });
    }
    x.dispose();
  }
}

await runJob({ anchor, spec }, async () => {
  await setup();
  if (spec.workload === 'sgemm') sgemm();
  else if (spec.workload === 'infer') infer();
  else if (spec.workload === 'mlp' || spec.workload === 'lenet') train(spec.workload);
  else throw new Error(`tfjs: the bench has no TF.js version of ${spec.workload}`);
});
